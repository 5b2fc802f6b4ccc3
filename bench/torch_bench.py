#!/usr/bin/python3
"""torch_bench.py - the networks of bench/tt_bench.cpp in PyTorch, same metrics.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_bench.py [--threads 2] [--repeats 9]
                                                                 [--only cifar,digits,mlp,ops]

PyTorch is pinned to --threads intra-op threads (torch.set_num_threads) and
its OpenBLAS to one thread (OPENBLAS_NUM_THREADS=1, read when the library
loads, so it must be in the environment before Python starts; the script
restarts itself with it set when it is missing). Every figure is the median
over --repeats repeats after warm-up, each repeat timing several steps, and
is printed once more as `RESULT <name> <value> <unit>` for bench/compare.sh.
"""
import argparse
import os
import platform
import statistics
import sys
import time

if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def result(name, value, unit):
    print(f"RESULT {name} {value:.6g} {unit}", flush=True)


def measure(fn, warmup, repeats, inner):
    """Seconds per call: (median, min, max) over repeats of `inner` calls."""
    for _ in range(warmup):
        fn()
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        per_call.append((time.perf_counter() - t0) / inner)
    return statistics.median(per_call), min(per_call), max(per_call)


def calls_for(target, fn):
    fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    return max(1, int(target / max(one, 1e-9)))


class Trainer:
    def __init__(self, net, x, y):
        self.net, self.x, self.y = net, x, y
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(self):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()

    def forward_only(self):
        F.cross_entropy(self.net(self.x), self.y)

    def forward_backward(self):
        self.opt.zero_grad()
        F.cross_entropy(self.net(self.x), self.y).backward()


def bench_cifar(args):
    B = 64
    net = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2304, 256), nn.ReLU(), nn.Linear(256, 10))
    fwd = [2.0 * 32 * 3 * 9 * 30 * 30, 2.0 * 64 * 32 * 9 * 13 * 13, 2.0 * 2304 * 256, 2.0 * 256 * 10]
    flops = 3 * sum(fwd) - fwd[0]  # backward = 2x forward, minus the first layer's input gradient
    t = Trainer(net, torch.rand(B, 3, 32, 32) * 2 - 1, torch.randint(0, 10, (B,)))
    params = sum(p.numel() for p in net.parameters())
    print(f"\nCIFAR-10 CNN, batch {B}, Adam ({params} parameters, {flops / 1e6:.2f} MFLOP per training image)")
    step = measure(t.step, 3, args.repeats, 5)
    fw = measure(t.forward_only, 2, args.repeats, 5)
    fb = measure(t.forward_backward, 2, args.repeats, 5)
    ips, gflops = B / step[0], flops * B / step[0] / 1e9
    print(f"  training step    {step[0] * 1e3:8.2f} ms  (min {step[1] * 1e3:.2f}, max {step[2] * 1e3:.2f})"
          f"  = {ips:.0f} images/s, {gflops:.1f} GFLOP/s")
    print(f"    forward        {fw[0] * 1e3:8.2f} ms")
    print(f"    backward       {(fb[0] - fw[0]) * 1e3:8.2f} ms  (forward+backward {fb[0] * 1e3:.2f} ms minus forward)")
    print(f"    zero_grad+Adam {(step[0] - fb[0]) * 1e3:8.2f} ms  (step minus forward+backward)")
    result("cifar_step_ms", step[0] * 1e3, "ms")
    result("cifar_images_per_s", ips, "images/s")
    result("cifar_gflops", gflops, "GFLOP/s")
    result("cifar_forward_ms", fw[0] * 1e3, "ms")
    result("cifar_backward_ms", (fb[0] - fw[0]) * 1e3, "ms")


def bench_small(args, name, label, net, x):
    B = x.shape[0]
    t = Trainer(net, x, torch.randint(0, 10, (B,)))
    params = sum(p.numel() for p in net.parameters())
    print(f"\n{label}, batch {B}, Adam ({params} parameters)")
    inner = calls_for(0.05, t.step)
    step = measure(t.step, 20, args.repeats, inner)
    print(f"  training step    {step[0] * 1e6:8.1f} us  (min {step[1] * 1e6:.1f}, max {step[2] * 1e6:.1f};"
          f" {inner} steps per repeat)")
    result(name, step[0] * 1e6, "us")


def bench_digits(args):
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
    bench_small(args, "digits_cnn_step_us", "TinyDigits CNN", net, torch.rand(32, 1, 8, 8))


def bench_mlp(args):
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    bench_small(args, "digits_mlp_step_us", "TinyDigits MLP 64-128-10", net, torch.rand(32, 64))


def bench_ops(args):
    print("\nSpatial ops of the CIFAR net (batch 64) and the TinyDigits CNN (batch 32), ATen calls alone, median per call")

    def report(name, what, flops, fn):
        inner = calls_for(0.05, fn)
        med, lo, _ = measure(fn, 3, args.repeats, inner)
        if flops:
            print(f"  {name:<18} {what:<48} {med * 1e3:8.3f} ms (min {lo * 1e3:.3f})  {flops / med / 1e9:6.1f} GFLOP/s")
        else:
            print(f"  {name:<18} {what:<48} {med * 1e3:8.3f} ms (min {lo * 1e3:.3f})")
        result(f"op_{name}_ms", med * 1e3, "ms")

    aten = torch.ops.aten
    with torch.no_grad():
        # The same cases as tt_bench: CIFAR (batch 64, no padding), TinyDigits (batch 32, padding 1).
        for name, N, C, H, O, pad, need_dx in (("conv1", 64, 3, 32, 32, 0, False), ("conv2", 64, 32, 15, 64, 0, True),
                                               ("digits_conv1", 32, 1, 8, 16, 1, False),
                                               ("digits_conv2", 32, 16, 4, 32, 1, True)):
            OH = H + 2 * pad - 2
            x = torch.rand(N, C, H, H) * 2 - 1
            w = (torch.rand(O, C, 3, 3) * 2 - 1) * 0.1
            b = (torch.rand(O) * 2 - 1) * 0.1
            g = torch.rand(N, O, OH, OH) * 2 - 1
            f = 2.0 * N * O * C * 9 * OH * OH
            what = f"[{N},{C},{H},{H}] * [{O},{C},3,3]" + (" pad 1" if pad else "")
            report(f"{name}_fwd", what, f, lambda: F.conv2d(x, w, b, padding=pad))
            mask = [need_dx, True, True]
            report(f"{name}_bwd", what + (" dx,dw,db" if need_dx else " dw,db"), f * (2 if need_dx else 1),
                   lambda: aten.convolution_backward(g, x, w, [O], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1,
                                                     mask))
        for tag, C, H in (("1", 32, 30), ("2", 64, 13)):
            N, OH = 64, H // 2
            x = torch.rand(N, C, H, H) * 2 - 1
            g = torch.rand(N, C, H, H) * 2 - 1
            gp = torch.rand(N, C, OH, OH) * 2 - 1
            gamma, beta = torch.ones(C), torch.zeros(C)
            rm, rv = torch.zeros(C), torch.ones(C)
            what = f"[64,{C},{H},{H}]"
            _, idx = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
            _, mean, invstd = aten.native_batch_norm(x, gamma, beta, rm, rv, True, 0.1, 1e-5)
            report(f"maxpool{tag}_fwd", what, 0, lambda: aten.max_pool2d_with_indices(x, [2, 2], [2, 2]))
            report(f"maxpool{tag}_bwd", what, 0,
                   lambda: aten.max_pool2d_with_indices_backward(gp, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx))
            report(f"bn{tag}_fwd", what + " training", 0,
                   lambda: aten.native_batch_norm(x, gamma, beta, rm, rv, True, 0.1, 1e-5))
            report(f"bn{tag}_bwd", what + " training", 0,
                   lambda: aten.native_batch_norm_backward(g, x, gamma, rm, rv, mean, invstd, True, 1e-5,
                                                           [True, True, True]))

            # The block batch norm -> ReLU -> 2x2 max-pool: three ATen calls each way.
            def block_fwd():
                y = aten.native_batch_norm(x, gamma, beta, rm, rv, True, 0.1, 1e-5)[0]
                return aten.max_pool2d_with_indices(torch.relu(y), [2, 2], [2, 2])

            z = torch.relu(aten.native_batch_norm(x, gamma, beta, rm, rv, True, 0.1, 1e-5)[0])
            _, zidx = aten.max_pool2d_with_indices(z, [2, 2], [2, 2])

            def block_bwd():
                dz = aten.max_pool2d_with_indices_backward(gp, z, [2, 2], [2, 2], [0, 0], [1, 1], False, zidx)
                dy = aten.threshold_backward(dz, z, 0)
                return aten.native_batch_norm_backward(dy, x, gamma, rm, rv, mean, invstd, True, 1e-5,
                                                       [True, True, True])

            report(f"block{tag}_fwd", what + " bn+relu+pool", 0, block_fwd)
            report(f"block{tag}_bwd", what + " bn+relu+pool", 0, block_bwd)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--only", default="cifar,digits,mlp,ops")
    args = p.parse_args()
    only = [w for w in args.only.split(",") if w]
    for w in only:
        if w not in ("cifar", "digits", "mlp", "ops"):
            p.error(f"unknown benchmark {w}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    print(f"torch_bench: PyTorch {torch.__version__}, {torch.get_num_threads()} threads "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}), {cpu_model()}")
    result("threads", args.threads, "threads")
    for name, fn in (("cifar", bench_cifar), ("digits", bench_digits), ("mlp", bench_mlp), ("ops", bench_ops)):
        if name in only:
            fn(args)


if __name__ == "__main__":
    main()
