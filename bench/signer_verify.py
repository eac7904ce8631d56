#!/usr/bin/env python3
"""Signer/verifier benchmark (issue 6): full verification of a 100 MB image vs
`openssl dgst -sha256` of the same file and vs `rauc info --keyring` on a RAUC
plain bundle of the same squashfs; verity-mode time for 10 MB and 100 MB images;
peak RSS. All tools run side by side in one run, warm page cache, median of N.

usage: bench/signer_verify.py [--build build] [--runs 7] [--size-mb 100]
"""
import argparse, os, resource, statistics, subprocess, sys, tempfile, time

def run_timed(cmd):
    """Wall time (s) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    return dt

def peak_rss_kib(cmd):
    """Peak RSS of the command itself, measured by GNU time (not inherited from python)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    return int(p.stderr.strip().splitlines()[-1])

def bench(name, cmd, runs):
    run_timed(cmd)  # warm-up: page cache and dynamic loader
    times = [run_timed(cmd) for _ in range(runs)]
    rss = peak_rss_kib(cmd)
    med = statistics.median(times)
    print(f"  {name:34s} median {med*1000:9.2f} ms   peak RSS {rss/1024:6.1f} MiB", flush=True)
    return med, rss

def sh(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)

def make_squashfs(d, name, size_mb):
    src = os.path.join(d, name + ".src")
    os.makedirs(src)
    for i in range(size_mb):
        with open(os.path.join(src, f"f{i:04d}"), "wb") as f:
            f.write(os.urandom(1 << 20))
    out = os.path.join(d, name + ".sqfs")
    sh(["mksquashfs", src, out, "-noappend", "-quiet", "-no-progress", "-noI", "-noD", "-noF", "-noX"])
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size-mb", type=int, default=100)
    a = ap.parse_args()
    nestbox = os.path.abspath(os.path.join(a.build, "cli", "nestbox"))
    probe = os.path.abspath(os.path.join(a.build, "tests", "verifier", "verify_probe"))
    with tempfile.TemporaryDirectory(prefix="nestbox-bench-") as d:
        sqfs = make_squashfs(d, "big", a.size_mb)
        small = make_squashfs(d, "small", 10)
        ring = os.path.join(d, "ring")
        os.makedirs(ring)
        sh([nestbox, "keygen", "-o", os.path.join(d, "k")])
        os.link(os.path.join(d, "k.pub"), os.path.join(ring, "k.pub"))
        img, img_small = os.path.join(d, "big.img"), os.path.join(d, "small.img")
        for s, i in ((sqfs, img), (small, img_small)):
            sh([nestbox, "sign", "--squashfs", s, "--name", "bench", "--version", "1", "--arch", "x86_64",
                "-k", os.path.join(d, "k.key"), "-o", i])
        # RAUC plain bundle of the same squashfs, self-signed certificate.
        cert, key = os.path.join(d, "rauc.cert.pem"), os.path.join(d, "rauc.key.pem")
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-subj", "/CN=nestbox-bench", "-days", "3650"], stderr=subprocess.DEVNULL)
        bdir = os.path.join(d, "bundle")
        os.makedirs(bdir)
        os.link(sqfs, os.path.join(bdir, "rootfs.img"))
        with open(os.path.join(bdir, "manifest.raucm"), "w") as f:
            f.write("[update]\ncompatible=nestbox-bench\nversion=1\n\n[bundle]\nformat=plain\n\n"
                    "[image.rootfs]\nfilename=rootfs.img\n")
        bundle = os.path.join(d, "bench.raucb")
        sh(["rauc", "bundle", "--cert", cert, "--key", key, bdir, bundle], stderr=subprocess.DEVNULL)
        sizes = {p: os.path.getsize(p) for p in (img, bundle, img_small)}
        print(f"image {sizes[img]} bytes, RAUC bundle {sizes[bundle]} bytes, small image {sizes[img_small]} bytes")
        print(f"openssl: {subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
        t_dgst, _ = bench("openssl dgst -sha256 IMG", ["openssl", "dgst", "-sha256", img], a.runs)
        t_full, r_full = bench("nestbox verify IMG (full)", [nestbox, "verify", img, "--keyring", ring], a.runs)
        t_rauc, r_rauc = bench("rauc info --keyring BUNDLE", ["rauc", "info", "--keyring", cert, bundle], a.runs)
        t_ver, r_ver = bench("nestbox verify IMG --mode verity",
                             [nestbox, "verify", img, "--keyring", ring, "--mode", "verity"], a.runs)
        t_ver_s, _ = bench("nestbox verify SMALL --mode verity",
                           [nestbox, "verify", img_small, "--keyring", ring, "--mode", "verity"], a.runs)
        t_true, r_true = bench("nestbox --version (process baseline)", [nestbox, "--version"], a.runs)
        t_pfull, r_pfull = bench("verify_probe IMG full (target-shaped)", [probe, img, ring, "full"], a.runs)
        t_pver, r_pver = bench("verify_probe IMG verity", [probe, img, ring, "verity"], a.runs)
        inproc = {}
        for label, path in (("100", img), ("10", img_small)):
            out = subprocess.run([probe, path, ring, "verity", "101"], capture_output=True, text=True, check=True)
            inproc[label] = float(out.stdout.split()[0].split("=")[1])
            print(f"  in-process verify_image(verity), {label:>3s} MB image: median {inproc[label]:.1f} us (101 calls)")
        print(f"full / openssl dgst          = {t_full / t_dgst:.3f}  (goal <= 1.1)")
        print(f"full / rauc info             = {t_full / t_rauc:.3f}  (goal <= 0.5)")
        print(f"verity mode in-process       = {inproc['100']/1000:.3f} ms ({a.size_mb} MB), "
              f"{inproc['10']/1000:.3f} ms (10 MB)  (goal <= 5 ms, size-independent)")
        print(f"verity mode as a process     = nestbox {t_ver*1000:.2f} ms / {t_ver_s*1000:.2f} ms (100/10 MB), "
              f"verify_probe {t_pver*1000:.2f} ms")
        print(f"full, target-shaped probe    = {t_pfull*1000:.2f} ms = {t_pfull / t_dgst:.3f} x openssl dgst, "
              f"peak RSS {r_pfull/1024:.1f} MiB (verity {r_pver/1024:.1f} MiB)")
        print(f"process start-up baseline    = {t_true*1000:.2f} ms, peak RSS {r_true/1024:.1f} MiB")
        print(f"peak RSS: full {r_full/1024:.1f} MiB, verity {r_ver/1024:.1f} MiB, rauc {r_rauc/1024:.1f} MiB")
        print(f"full-verify throughput       = {sizes[img] / t_full / 1e9:.2f} GB/s; "
              f"openssl {sizes[img] / t_dgst / 1e9:.2f} GB/s; rauc {sizes[bundle] / t_rauc / 1e9:.2f} GB/s")

if __name__ == "__main__":
    main()
