#!/usr/bin/python3
"""Compare the gradients of TinyTorch's reference modules with PyTorch.

Builds dev/grad_dump.cpp against an existing build (its libtt_core.a and the
reference module libraries in lib/), runs it, and recomputes every case in
PyTorch (float64, same inputs). For each gradient it reports

    rel = max|g_tinytorch - g_torch| / max|g_torch|

(the error relative to the gradient's scale; element-wise ratios blow up on
entries that are ~0). Exit status 1 when any rel exceeds --tol (default 1e-4).

Usage (Debian's python3-torch; never used by the tests):
    /usr/bin/python3 dev/torch_grad_check.py [--build build] [--tol 1e-4]
"""
import argparse
import os
import re
import subprocess
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def weighted(y, w):
    return (y * w).sum()


# The same losses as dev/grad_dump.cpp, in PyTorch. Weight layout: [in, out].
def mlp_tinydigits(x, w1, b1, w2, b2, t):
    h = torch.relu(x @ w1 + b1)
    return F.cross_entropy(h @ w2 + b2, t.long())


def cifar_head(x, w1, b1, w2, b2, t):
    h = torch.relu(x.reshape(64, 2304) @ w1 + b1)
    return F.cross_entropy(h @ w2 + b2, t.long())


def broadcast(a, b, c, w):
    num = a * b + c
    den = b * b + 1.0
    return weighted((num / den - a) * 2.0 - c / 3.0, w)


def matmul_shapes(a, b, c, d, w):
    e = ((a @ b) @ c) @ d
    f = e.transpose(0, 2).reshape(8, 4, 3, 8).transpose(0, 2)
    return weighted(f.reshape(3, 4, 8, 8), w)


def reductions(x, w1, w2, w3):
    return (weighted(x.sum(1), w1) + weighted(x.mean(-1, keepdim=True), w2)
            + weighted(x.max(0).values, w3) + x.max() * 0.5 + x.mean() * 2.0)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh((2.0 / torch.pi) ** 0.5 * (x + 0.044715 * x ** 3)))


def activations(x, w1, w2):
    h = torch.sigmoid(x) + torch.tanh(x) * gelu_tanh(x)
    return (weighted(torch.softmax(h, -1), w1) + weighted(torch.log_softmax(h, 0), w2)
            + weighted(torch.relu(x), w2))


def losses(p, z, t, u):
    eps = 1e-7
    q = torch.sigmoid(z).clamp(eps, 1 - eps)
    bce = -(u * torch.log(q) + (1 - u) * torch.log(1 - q)).mean()
    return F.mse_loss(p, t) + bce


def spatial(x, k1, c1, g1, h1, k2, c2, g2, h2, w):
    h = F.conv2d(x, k1, c1, stride=1, padding=1)
    h = torch.relu(F.batch_norm(h, None, None, g1, h1, training=True, eps=1e-5))
    h = F.max_pool2d(h, 2)
    h = F.conv2d(h, k2, c2, stride=2, padding=0)
    h = torch.relu(F.batch_norm(h, None, None, g2, h2, training=True, eps=1e-5))
    return weighted(F.avg_pool2d(h, 2), w)


CASES = {f.__name__: f for f in
         (mlp_tinydigits, cifar_head, broadcast, matmul_shapes, reductions, activations, losses, spatial)}


def build_dumper(build):
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    blas = re.search(r"^TT_OPENBLAS_LIBRARY:FILEPATH=(.*)$", cache, re.M).group(1)
    exe = os.path.join(build, "dev", "grad_dump")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["g++", "-std=c++20", "-O2", os.path.join(ROOT, "dev", "grad_dump.cpp"),
                    "-I", os.path.join(ROOT, "core", "include"),
                    os.path.join(build, "core", "libtt_core.a"), blas, "-lz", "-ldl", "-pthread",
                    "-o", exe], check=True)
    return exe


def parse(text):
    cases, cur = [], None
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "case":
            cur = {"name": f[1], "inputs": [], "grads": {}}
            cases.append(cur)
            continue
        if f[0] == "in":
            name, rg, nd = f[1], f[2] == "1", int(f[3])
            rest = f[4:]
        else:
            name, nd = f[1], int(f[2])
            rest = f[3:]
        shape = [int(s) for s in rest[:nd]]
        t = torch.tensor([float(v) for v in rest[nd:]], dtype=torch.float64).reshape(shape)
        if f[0] == "in":
            cur["inputs"].append((name, t, rg))
        else:
            cur["grads"][name] = t
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="a configured and built build dir")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest accepted relative error")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    exe = build_dumper(build)
    env = dict(os.environ, TITO_LIB_DIR=os.path.join(build, "lib"), TITO_IMPL="reference")
    out = subprocess.run([exe], check=True, capture_output=True, text=True, env=env).stdout

    worst = 0.0
    for case in parse(out):
        leaves = []
        for name, t, rg in case["inputs"]:
            leaves.append(t.clone().requires_grad_(rg))
        CASES[case["name"]](*leaves).backward()
        for (name, _, rg), leaf in zip(case["inputs"], leaves):
            if not rg:
                continue
            ref, got = leaf.grad, case["grads"][name]
            scale = ref.abs().max().item()
            diff = (got - ref).abs().max().item()
            # A gradient that is 0 in exact arithmetic (a conv bias right before
            # batch norm: the normalisation removes any constant) has no scale
            # to be relative to; its float32 rounding is compared absolutely.
            kind = "rel" if scale > 1e-6 else "abs"
            err = diff / scale if kind == "rel" else diff
            worst = max(worst, err)
            flag = "" if err <= args.tol else "   <-- above tolerance"
            print(f"{case['name']:16s} grad {name:3s} {str(list(ref.shape)):18s} {kind} {err:.2e}{flag}")
    print(f"max relative error {worst:.2e} (tolerance {args.tol:g})")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
