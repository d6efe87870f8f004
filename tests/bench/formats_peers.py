#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""16-bit TIFF and WebP against libvips (the peer that streams them too), side by side in one
run: mask a 24 MP image by a gray PNG, written in the input's format. Medians of wall time and
peak RSS, output size, and hadamard over the peer. The JPEG q90 jobs compare like with like:
hadamard's default (auto: 4:4:4 at quality 90, as libvips chooses) against libvips, and
`--jpeg-subsample 420` against OpenCV, whose libjpeg default is 4:2:0.
usage: tests/bench/formats_peers.py HADAMARD [--runs N] [--jobs a,b]
(run ../shared/bench/setup-peers.sh first: it makes the 24 MP images in /tmp/hadamard-bench)"""
import argparse, os, statistics, subprocess, tempfile
ap = argparse.ArgumentParser(); ap.add_argument("binary"); ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--jobs", default="")
a = ap.parse_args(); H = os.path.abspath(a.binary)
d = os.environ.get("BENCH_DIR", "/tmp/hadamard-bench"); T = tempfile.mkdtemp()
P, M, J = f"{d}/photo24.png", f"{d}/mask24.png", f"{d}/photo24.jpg"
T16, WL, WQ = f"{d}/photo24-16.tif", f"{d}/photo24-lossless.webp", f"{d}/photo24-q90.webp"
if not os.path.exists(T16):
    subprocess.run(["vips", "cast", P, f"{T}/s.v", "ushort"], check=True)
    subprocess.run(["vips", "linear", f"{T}/s.v", f"{T}/l.v", "257", "0"], check=True)
    subprocess.run(["vips", "cast", f"{T}/l.v", f"{T16}[compression=deflate,predictor=horizontal]", "ushort"], check=True)
if not os.path.exists(WL):
    subprocess.run(["vips", "copy", P, f"{WL}[lossless]"], check=True)
if not os.path.exists(WQ):
    subprocess.run(["vips", "copy", P, f"{WQ}[Q=90]"], check=True)
if not os.path.exists(J):
    subprocess.run(["/usr/bin/convert", P, "-quality", "90", J], check=True)
def vips(inp, out, fmt, scale):
    # multiply, scale back by the mask's maximum, cast to the input's depth, written as fmt
    return ["sh", "-c", f'vips multiply "{inp}" "{M}" {T}/p.v && vips linear {T}/p.v {T}/l.v {scale} 0.5 '
            f'&& vips cast {T}/l.v "{out}{fmt}" {"ushort" if "tif" in out else "uchar"}']
def opencv(o):
    return ["/usr/bin/python3", "-c", "import cv2,sys; a=sys.argv; x=cv2.imread(a[1]); m=cv2.imread(a[2],0); "
            "cv2.imwrite(a[3], cv2.multiply(x,cv2.merge([m,m,m]),scale=1/255), [cv2.IMWRITE_JPEG_QUALITY,90])", J, M, o]
jobs = {
  "tiff16-deflate": (T16, ".tif", lambda o: [H, "mask", T16, M, "-o", o],
                     lambda o: vips(T16, o, "[compression=deflate,predictor=horizontal]", 1 / 255)),
  "webp-lossless": (WL, ".webp", lambda o: [H, "mask", WL, M, "-o", o, "--webp-lossless"],
                    lambda o: vips(WL, o, "[lossless]", 1 / 255)),
  "webp-q90": (WQ, ".webp", lambda o: [H, "mask", WQ, M, "-o", o, "--quality", "90"],
               lambda o: vips(WQ, o, "[Q=90]", 1 / 255)),
  "jpeg-q90-444": (J, ".jpg", lambda o: [H, "mask", J, M, "-o", o],
                   lambda o: vips(J, o, "[Q=90]", 1 / 255)),
  "jpeg-q90-420": (J, ".jpg", lambda o: [H, "mask", J, M, "-o", o, "--jpeg-subsample", "420"],
                   opencv, "opencv"),
}
if a.jobs: jobs = {k: v for k, v in jobs.items() if k in a.jobs.split(",")}
print(f"mask 24 MP by a gray PNG, same format out, median of {a.runs}")
for job, (inp, ext, hcmd, vcmd, *peer) in jobs.items():
    pk = peer[0] if peer else "vips-cli"
    res = {"hadamard": [], pk: []}; size = {}
    for r in range(a.runs):
        for k, cmd in (("hadamard", hcmd), (pk, vcmd)):
            o = f"{T}/{job}-{k}{ext}"
            p = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd(o), capture_output=True, text=True)
            if p.returncode or not os.path.exists(o):
                print(f"  {job} {k}: failed {p.stderr.strip()[-150:]}"); continue
            w, m = p.stderr.strip().splitlines()[-1].split(); res[k].append((float(w), int(m) / 1024))
            size[k] = os.path.getsize(o) / 1e6
    line = f"{job:16}"
    for k, v in res.items():
        if v:
            line += f" {k} {statistics.median(x[0] for x in v):.2f}s {statistics.median(x[1] for x in v):.0f}MB {size[k]:.1f}MB "
    if res["hadamard"] and res[pk]:
        hw = statistics.median(x[0] for x in res["hadamard"]); vw = statistics.median(x[0] for x in res[pk])
        hm = statistics.median(x[1] for x in res["hadamard"]); vm = statistics.median(x[1] for x in res[pk])
        line += f"| wall {hw / vw:.2f}, RSS {hm / vm:.2f}, size {size['hadamard'] / size[pk]:.2f} of {pk}'s"
    print(line)
