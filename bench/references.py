#!/usr/bin/env python3
"""Benchmark: does a second and third reference photo raise recall?

    python bench/references.py [--workdir bench/out] [--preset speed|default]

Runs the tool on the 720p benchmark montage (bench/run.py builds it) with one, two and
three photos of the target, each from a moment of his clip the montage does not use
(18.5 s, 19.3 s, 18.0 s), at the default threshold and at two stricter ones. Prints, per
run: frame-level recall and precision of the segments, and the share of the target's
embedded faces that match on their own (distance within the threshold to the closest
photo), which is what more photos change first.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage as montage_builder  # noqa: E402
from checks import score  # noqa: E402

MOMENTS = (18.5, 19.3, 18.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--preset", choices=("speed", "default"), default="speed")
    args = parser.parse_args()
    workdir = Path(args.workdir) / "720p"
    montage = montage_builder.build(montage_builder.benchmark_parts(), workdir / "montage.mp4",
                                    1280, 720)
    truth = montage.target_frames()
    photos = [montage_builder.reference_photo(workdir / f"reference-{at}.png", at=at)
              for at in MOMENTS]
    print(f"montage {montage.path}: {len(truth)} target frames; preset {args.preset}")
    print(f"{'photos':<22} {'threshold':>9} {'recall':>7} {'precision':>9} "
          f"{'own-match share':>15} {'mean target distance':>20}")
    for threshold in (0.5, 0.42, 0.35):
        for count in (1, 2, 3):
            out = workdir / f"refs-{count}-{threshold}"
            command = [sys.executable, str(ROOT / "video_inference.py"), "--video",
                       str(montage.path), "--reference", *map(str, photos[:count]),
                       "--threshold", str(threshold), "--output", str(out), "--overwrite",
                       "--quiet", "--dry-run", "--no-cache"] + (["--speed"] if args.preset == "speed" else [])
            process = subprocess.run(command, capture_output=True, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
            if process.returncode not in (0, 1):
                raise SystemExit(process.stderr)
            doc = json.loads((out / "metadata.json").read_text())
            measured = score(doc["segments"], montage.target_segments())
            own = [d["distance"] for s in doc["segments"] for d in s["detections"]
                   if d["frame"] in truth and d["distance"] is not None]
            share = sum(1 for d in own if d <= threshold) / len(own) if own else 0.0
            mean = sum(own) / len(own) if own else float("nan")
            names = "+".join(f"{at}s" for at in MOMENTS[:count])
            print(f"{names:<22} {threshold:>9} {measured.recall:>7.4f} {measured.precision:>9.4f} "
                  f"{share:>15.3f} {mean:>20.4f}", flush=True)


if __name__ == "__main__":
    main()
