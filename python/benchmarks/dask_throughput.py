"""Images/s of kiln.dask on this machine with 1 and 2 local worker processes (README "Python").

    PYTHONPATH=build/release/python /usr/bin/python3 python/benchmarks/dask_throughput.py \
        build/release/models/fast_neural_style.onnx --size 640x360 --images 12 --rounds 2

Writes --images random RGB PNGs of --size into a temporary folder, then per
round and setting: a fresh LocalCluster (workers x 1 Dask thread; each session
gets cores // workers intra-op threads), one warm-up image per worker (so
sessions are built before timing), and the whole folder timed. Also the same
folder in this process with one session at the default thread count. Prints a
Markdown table (best round) with the machine's load average.
"""
import argparse
import os
import tempfile
import time

import numpy as np

import kiln
import kiln.dask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--size", default="640x360", help="WxH of the images")
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--range", default="0,255", dest="range_")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    cores = kiln._kiln.physical_core_count()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "in")
        os.makedirs(folder)
        for k in range(args.images):
            kiln.write_image(os.path.join(folder, f"img{k:03d}.png"),
                             rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        warm = [os.path.join(folder, "img000.png")]
        rows = []
        best = None
        for _ in range(args.rounds):
            kiln.dask.process_images_locally(warm, args.model, out_dir=os.path.join(tmp, "w"), range_=args.range_)
            t = time.perf_counter()
            r = kiln.dask.process_images_locally(folder, args.model, out_dir=os.path.join(tmp, "local"),
                                                 range_=args.range_)
            assert not r.errors, r.errors
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
        rows.append(("one process, no Dask", 1, f"{cores}", args.images / best))
        for workers in (1, 2):
            if workers > cores:
                continue
            best = None
            for _ in range(args.rounds):
                with kiln.dask.local_client(workers=workers, threads_per_worker=1) as client:
                    kiln.dask.process_images(client, warm * workers, args.model, out_dir=os.path.join(tmp, "w"),
                                             range_=args.range_, progress=False)
                    t = time.perf_counter()
                    r = kiln.dask.process_images(client, folder, args.model, out_dir=os.path.join(tmp, "dask"),
                                                 range_=args.range_, progress=False)
                    dt = time.perf_counter() - t
                    assert not r.errors, r.errors
                best = dt if best is None else min(best, dt)
            rows.append((f"LocalCluster, {workers} worker process(es) x 1 thread", workers,
                         f"{max(1, cores // workers)} per session", args.images / best))
    print(f"model {os.path.basename(args.model)}, {args.images} images {width}x{height}, best of {args.rounds} "
          f"rounds, {cores} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| setting | workers | kiln threads | images/s |")
    print("| --- | --- | --- | --- |")
    for name, workers, threads, rate in rows:
        print(f"| {name} | {workers} | {threads} | {rate:.2f} |")


if __name__ == "__main__":
    main()
