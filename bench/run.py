#!/usr/bin/env python3
"""Benchmark: build a labelled montage, run the tool's presets and the original
method on it, and print one table.

    python bench/run.py [--montage 720p|small] [--processes 2] [--baseline-interval 10]
                        [--skip-baseline] [--workdir bench/out]

Runs, in one invocation: (a) the default preset, (b) --speed, (c) --interval 5, (a) and
(b) again with --clips reencode (re-encoded clips, the default before exact lossless
clips: their cut cost beside the stream copy's), and (d) the baseline, the original script's method (bench/baseline.py: seek, read and
DeepFace.verify(frame, reference_path) per analysed frame over a Pool). The baseline
spends ~3.8 s per frame on 720p here, so by default it analyses every 10th frame (the
original's own --interval); its frames/s is per analysed frame like everyone else's,
and its segments are scored on every frame. --baseline-interval 1 analyses every frame
(about an hour on 2 cores).

Columns: frames analysed, analysed frames/s (scan phase), wall time of the whole
command, realtime factor (video seconds per wall second), the same over the scan phase
alone, seconds cutting the clips and that as a share of the scan's wall time, CPU
seconds of the command and the processes it waited for (workers, decoders,
encoders;
the machine's 2 cores give at most 2 per wall second), frame-level precision /
recall / F1 and worst boundary error against the montage's known truth, segments found
/ true, peak RSS (largest single process of the run).
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
from measure import measure  # noqa: E402


def _row(name: str, segments: list[dict], truth: list[tuple[int, int]], analysed: int,
         seconds_scan: float, wall: float, duration: float, peak_mib: float,
         cpu: float) -> dict:
    measured = score(segments, truth)
    return {
        "run": name, "frames": analysed, "fps": analysed / seconds_scan, "wall": wall,
        "realtime": duration / wall, "scan_realtime": duration / seconds_scan, "cpu": cpu,
        "precision": measured.precision,
        "recall": measured.recall, "f1": measured.f1, "worst": measured.worst_boundary,
        "segments": f"{measured.segments}/{measured.truth_segments}", "peak_rss_mb": peak_mib,
        "found": [(s["start_frame"], s["end_frame"]) for s in segments],
    }


def run_tool(name: str, args: list[str], montage: montage_builder.Montage, reference: Path,
             workdir: Path, processes: int) -> dict:
    out = workdir / f"results-{name}"
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
               "--reference", str(reference), "--num_processes", str(processes),
               "--output", str(out), "--overwrite", "--quiet", "--no-cache", *args]
    started = time.monotonic()
    measured = measure(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    process, peak_mib = measured.process, measured.peak_mib
    wall = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"{name}: exit {process.returncode}: {process.stderr.strip()}")
    doc = json.loads((out / "metadata.json").read_text())
    row = _row(name, doc["segments"], montage.target_segments(), doc["stats"]["frames_analysed"],
               doc["stats"]["seconds_scan"], wall, doc["video"]["duration"], peak_mib,
               measured.cpu_seconds)
    stats = doc["stats"]
    row["cut_s"] = stats["seconds_cut"]
    row["cut_share"] = stats["seconds_cut"] / stats["seconds_scan"]
    # where the wall time went: scan, cutting (the review page is drawn meanwhile), and
    # everything else (start-up: imports, probe, workers loading models, photos; writing
    # results; exit)
    other = wall - stats["seconds_scan"] - stats["seconds_cut"]
    row["phases"] = (f"scan {stats['seconds_scan']:.1f} s (incl. {stats['frames_refined']} refined"
                     f" frames) + cut {stats['seconds_cut']:.1f} s + other {other:.1f} s; "
                     f"CPU {measured.cpu_seconds:.1f} s")
    return row


def run_baseline(montage: montage_builder.Montage, reference: Path, workdir: Path,
                 processes: int, interval: int) -> dict:
    out = workdir / "baseline.json"
    command = [sys.executable, str(ROOT / "bench" / "baseline.py"), "--video", str(montage.path),
               "--reference", str(reference), "--interval", str(interval),
               "--processes", str(processes), "--out", str(out)]
    started = time.monotonic()
    measured = measure(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    process, peak_mib = measured.process, measured.peak_mib
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"baseline: exit {process.returncode}: {process.stderr.strip()[-2000:]}")
    doc = json.loads(out.read_text())
    duration = float(montage.time_of(montage.frame_count))
    return _row(f"baseline/{interval}", doc["segments"], montage.target_segments(),
                doc["frames_analysed"], doc["seconds_scan"], wall, duration, peak_mib,
                measured.cpu_seconds)


def print_table(rows: list[dict]) -> None:
    header = (f"{'run':<12} {'frames':>6} {'frames/s':>9} {'wall s':>7} {'x realtime':>10} "
              f"{'scan x rt':>9} {'cut s':>6} {'cut/scan':>8} {'CPU s':>6} "
              f"{'precision':>9} {'recall':>7} {'F1':>7} {'worst edge':>10} {'segments':>8} "
              f"{'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for r in rows:
        worst = "n/a" if r["worst"] is None else f"{r['worst']} fr"
        print(f"{r['run']:<12} {r['frames']:>6} {r['fps']:>9.2f} {r['wall']:>7.1f} "
              f"{r['realtime']:>10.2f} {r['scan_realtime']:>9.2f} {_cut(r)} {r['cpu']:>6.1f} "
              f"{r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
              f"{worst:>10} {r['segments']:>8} {r['peak_rss_mb']:>11.0f}")


def _cut(row: dict) -> str:
    """Seconds cutting the clips, and their share of the scan's wall time."""
    if "cut_s" not in row:  # the baseline cuts nothing
        return f"{'n/a':>6} {'n/a':>8}"
    return f"{row['cut_s']:>6.1f} {row['cut_share']:>7.0%} "


def print_ratios(rows: list[dict], baseline: dict) -> None:
    print(f"\nover {baseline['run']}:  analysed frames/s ratio, realtime ratio")
    for r in rows:
        print(f"  {r['run']:<12} {r['fps'] / baseline['fps']:>7.1f}x {r['realtime'] / baseline['realtime']:>9.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--montage", choices=("720p", "small"), default="720p",
                        help="720p: 62 s 1280x720 30 fps (default); small: the tests' 17 s "
                             "640x360 variable-frame-rate montage")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--baseline-interval", type=int, default=10)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    workdir = Path(args.workdir) / args.montage
    workdir.mkdir(parents=True, exist_ok=True)
    if args.montage == "720p":
        montage = montage_builder.build(montage_builder.benchmark_parts(),
                                        workdir / "montage.mp4", 1280, 720)
    else:
        montage = montage_builder.build(montage_builder.standard_parts(), workdir / "montage.mp4")
    reference = montage_builder.reference_photo(workdir / "reference.png")
    duration = montage.time_of(montage.frame_count)
    rates = sorted({part.fps for part in montage.parts})
    print(f"montage: {montage.path} ({montage.frame_count} frames, {float(duration):.1f} s, "
          f"{montage.width}x{montage.height}, {'+'.join(map(str, rates))} fps), truth segments "
          f"{montage.target_segments()}; {args.processes} processes; {os.cpu_count()} CPUs",
          flush=True)
    rows = []
    # "reencode": the same runs with re-encoded clips (--clips reencode, the default
    # until lossless exact clips), so their cut cost is in the same invocation
    runs = (("default", []), ("speed", ["--speed"]), ("interval 5", ["--interval", "5"]),
            ("default reenc", ["--clips", "reencode"]),
            ("speed reenc", ["--speed", "--clips", "reencode"]))
    for name, extra in runs:
        rows.append(run_tool(name.replace(" ", "-"), extra, montage, reference, workdir,
                             args.processes))
        rows[-1]["run"] = name
        print(f"  {name}: {rows[-1]['wall']:.1f} s = {rows[-1]['phases']}; segments "
              f"{rows[-1]['found']}", flush=True)
    baseline = None
    if not args.skip_baseline:
        baseline = run_baseline(montage, reference, workdir, args.processes,
                                args.baseline_interval)
        print(f"  {baseline['run']}: {baseline['wall']:.1f} s, segments {baseline['found']}",
              flush=True)
    print()
    print_table(rows + ([baseline] if baseline else []))
    by_name = {r["run"]: r for r in rows}
    same = all(abs(a - b) <= 1 for x, y in zip(by_name["interval 5"]["found"], by_name["default"]["found"])
               for a, b in zip(x, y)) and len(by_name["interval 5"]["found"]) == len(by_name["default"]["found"])
    print(f"\n--interval 5 segments {'match' if same else 'DIFFER FROM'} --interval 1 "
          f"(within 1 frame): {by_name['interval 5']['found']} vs {by_name['default']['found']}")
    if baseline:
        print_ratios(rows, baseline)


if __name__ == "__main__":
    main()
