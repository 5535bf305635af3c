#!/usr/bin/env python3
"""Benchmark: build the labelled montage and run the tool's presets on it.

    python bench/run.py [--workdir bench/out] [--processes 2]

Prints one table: frames analysed, frames/s, wall time, realtime factor, frame-level
precision/recall/F1 and worst boundary error against the montage's known truth,
and the peak RSS of the run (parent and workers).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage as montage_builder  # noqa: E402
from checks import score  # noqa: E402
from measure import peak_rss_mib  # noqa: E402


def run_tool(name: str, args: list[str], montage: montage_builder.Montage, reference: Path,
             workdir: Path, processes: int) -> dict:
    out = workdir / f"results-{name}"
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
               "--reference", str(reference), "--num_processes", str(processes),
               "--output", str(out), "--overwrite", "--quiet", *args]
    started = time.monotonic()
    process, peak_mib = peak_rss_mib(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"{name}: exit {process.returncode}: {process.stderr.strip()}")
    doc = json.loads((out / "metadata.json").read_text())
    measured = score(doc["segments"], montage.target_segments())
    analysed = doc["stats"]["frames_analysed"]
    duration = doc["video"]["duration"]
    return {
        "run": name,
        "frames": analysed,
        "fps": analysed / doc["stats"]["seconds_scan"],
        "wall": wall,
        "realtime": duration / wall,
        "precision": measured.precision,
        "recall": measured.recall,
        "f1": measured.f1,
        "worst": measured.worst_boundary,
        "segments": f"{measured.segments}/{measured.truth_segments}",
        # ru_maxrss of children is the largest single process (KiB on Linux)
        "peak_rss_mb": peak_mib,
    }


def print_table(rows: list[dict]) -> None:
    header = (f"{'run':<10} {'frames':>6} {'frames/s':>9} {'wall s':>7} {'x realtime':>10} "
              f"{'precision':>9} {'recall':>7} {'F1':>7} {'worst edge':>10} {'segments':>8} "
              f"{'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for r in rows:
        worst = "n/a" if r["worst"] is None else f"{r['worst']} fr"
        print(f"{r['run']:<10} {r['frames']:>6} {r['fps']:>9.2f} {r['wall']:>7.1f} "
              f"{r['realtime']:>10.2f} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
              f"{worst:>10} {r['segments']:>8} {r['peak_rss_mb']:>11.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    montage = montage_builder.build(montage_builder.standard_parts(), workdir / "montage.mp4")
    reference = montage_builder.reference_photo(workdir / "reference.png")
    print(f"montage: {montage.path} ({montage.frame_count} frames, "
          f"{float(montage.time_of(montage.frame_count)):.1f} s, {montage.width}x{montage.height}, "
          f"30+25 fps), truth segments {montage.target_segments()}; {args.processes} processes")
    rows = [run_tool("default", [], montage, reference, workdir, args.processes),
            run_tool("speed", ["--speed"], montage, reference, workdir, args.processes)]
    print_table(rows)


if __name__ == "__main__":
    main()
