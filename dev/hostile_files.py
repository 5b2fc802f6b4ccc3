#!/usr/bin/env python3
"""Time and memory of the dataset readers on the hostile files of issue 14.

Writes each file into a scratch directory, runs `tt_fuzz_readers --replay
TARGET FILE` on it under /usr/bin/time, and prints wall time, peak memory and
the reader's verdict. Every case must end in a DatasetError ("fine": the
outcome is allowed) within seconds and a few MB, whatever the file claims.

    dev/hostile_files.py [--bin build/bin] [--keep DIR]

Bombs are made as a run of identical gzip members (zlib reads them as one
stream): a 10 MB file inflating to 10 GiB takes a second to write.
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib


def gz(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


MIB_OF_ZEROS = gz(bytes(1 << 20))


def zeros_gz(mib):
    """gzip members inflating to `mib` MiB of zeros."""
    return MIB_OF_ZEROS * mib


def idx_header(magic, dims):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)


def tar_header(name, size, typ=b"0", size_field=None):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[156:157] = typ
    h[257:263] = b"ustar\0"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def cases():
    # IDX headers claiming 1 GB, 16 GB, 1 TB in a 16-byte file.
    for label, dims in (("1 GB", (1000000, 1000, 1)), ("16 GB", (16000000, 1000, 1)),
                        ("1 TB", (1 << 20, 1 << 20, 1))):
        yield "IDX header claiming " + label, "idx-images", idx_header(0x803, dims)
    # 10 MB of gzip inflating to 10 GiB after a valid 5-label header.
    yield "IDX labels + 10 GiB gzip bomb (10 MB file)", "idx-labels", \
        gz(idx_header(0x801, (5,)) + bytes(5)) + zeros_gz(10240)
    # A header claiming 245 MB (5 x 7000 x 7000, within the bound) then 10 GiB
    # of zeros: the worst case the bound allows (the claim is read, then 1 MiB more).
    yield "IDX images 5x7000x7000 claimed + 10 GiB gzip bomb", "idx-images", \
        gz(idx_header(0x803, (5, 7000, 7000))) + zeros_gz(10240)
    # A gzipped CIFAR batch inflating to 10 GiB.
    yield "CIFAR batch, gzip bomb 10 GiB", "cifar-batch", zeros_gz(10240)
    # Tar members claiming 2 GB and 60 GB (12 octal digits), a GNU long name of 2 GB.
    yield "tar member claiming 2 GB", "cifar-tar", tar_header("cifar-10-batches-bin/test_batch.bin", 2 << 30) + bytes(4096)
    yield "tar member claiming 60 GB", "cifar-tar", \
        tar_header("cifar-10-batches-bin/x", 0, size_field=b"%012o" % (60 * 10**9)) + bytes(4096)
    yield "GNU long name claiming 2 GB", "cifar-tar", tar_header("././@LongLink", 2 << 30, b"L") + bytes(4096)
    # tar.gz: 1 GiB entries of zeros, honest headers, then 8 MiB entries.
    big = b"".join(gz(tar_header("cifar-10-batches-bin/f%d" % i, 1 << 30)) + zeros_gz(1024) for i in range(4))
    yield "tar.gz of four 1 GiB entries of zeros (4 MB file)", "cifar-tar", big
    small = b"".join(gz(tar_header("cifar-10-batches-bin/f%d" % i, 8 << 20)) + zeros_gz(8) for i in range(128))
    yield "tar.gz of 128 entries of 8 MiB zeros (1 MB file)", "cifar-tar", small


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/bin", help="directory holding tt_fuzz_readers")
    ap.add_argument("--keep", help="write the files here and keep them")
    a = ap.parse_args()
    exe = os.path.join(a.bin, "tt_fuzz_readers")
    if not os.access(exe, os.X_OK):
        sys.exit(f"no {exe}: build it first (ninja -C <build> tt_fuzz_readers)")
    work = a.keep or tempfile.mkdtemp(prefix="tt-hostile-")
    os.makedirs(work, exist_ok=True)
    print(f"{'case':56} {'wall s':>7} {'max MB':>7}  verdict")
    worst = 0
    for i, (name, target, data) in enumerate(cases()):
        path = os.path.join(work, f"case{i}-{target}")
        with open(path, "wb") as f:
            f.write(data)
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", exe, "--replay", target, path],
                           capture_output=True, text=True)
        wall, kb = r.stderr.strip().splitlines()[-1].split()
        verdict = r.stdout.strip().split(": ", 1)[-1]
        worst = max(worst, r.returncode)
        verdict = re.sub(r"/tmp/tt-fuzz-[^/]+/replay/", "", verdict)
        print(f"{name:56} {float(wall):7.2f} {int(kb) / 1024:7.1f}  {verdict[:150]}")
        if not a.keep:
            os.remove(path)
    if not a.keep:
        os.rmdir(work)
    return worst


if __name__ == "__main__":
    sys.exit(main())
