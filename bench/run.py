#!/usr/bin/env python3
"""Benchmark: build a labelled montage, run the tool's presets and the original
method on it, and print one table.

    python bench/run.py [--montage 720p|small] [--processes 2] [--baseline-interval 10]
                        [--skip-baseline] [--skip-ladder] [--skip-long] [--workdir bench/out]

Runs, in one invocation: (a) the default preset, (b) --speed, (c) --interval 5, (d) hog,
dlib's HOG detector on every frame (the default preset before tiled BlazeFace), (a) and
(b) again with --clips reencode (re-encoded clips, the default before exact lossless
clips: their cut cost beside the stream copy's); then (e) the default preset and
--speed on a 3-minute montage (the 720p one three times over: the --speed scan's 20x
target is for 3 minutes or more); then (f) the face-size ladder (bench/ladder.py: the
smallest face each preset finds, in 1080p); and (g) the baseline, the original
script's method (bench/baseline.py: seek, read and
DeepFace.verify(frame, reference_path) per analysed frame over a Pool). The baseline
spends ~3.8 s per frame on 720p here, so by default it analyses every 10th frame (the
original's own --interval); its frames/s is per analysed frame like everyone else's,
and its segments are scored on every frame. --baseline-interval 1 analyses every frame
(about an hour on 2 cores).

Columns: frames analysed, analysed frames/s (scan phase), wall time of the whole
command, realtime factor (video seconds per wall second), the same over the scan phase
alone, seconds cutting the clips and that as a share of the scan's wall time, the
whole command's wall time over decoding the video alone (ffmpeg -threads 1 -f null), CPU
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

sys.path.insert(0, str(ROOT))
from bench.ladder import build_ladder, decode_only_seconds, print_ladder_table, run_ladder  # noqa: E402


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


def print_table(rows: list[dict], decode_wall: float | None = None) -> None:
    header = (f"{'run':<13} {'frames':>6} {'frames/s':>9} {'wall s':>7} {'x realtime':>10} "
              f"{'scan x rt':>9} {'cut s':>6} {'cut/scan':>8} {'x decode':>8} {'CPU s':>6} "
              f"{'precision':>9} {'recall':>7} {'F1':>7} {'worst edge':>10} {'segments':>8} "
              f"{'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for r in rows:
        worst = "n/a" if r["worst"] is None else f"{r['worst']} fr"
        ratio = f"{r['wall'] / decode_wall:>7.1f}x" if decode_wall else f"{'n/a':>8}"
        print(f"{r['run']:<13} {r['frames']:>6} {r['fps']:>9.2f} {r['wall']:>7.1f} "
              f"{r['realtime']:>10.2f} {r['scan_realtime']:>9.2f} {_cut(r)} {ratio} "
              f"{r['cpu']:>6.1f} "
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
    parser.add_argument("--skip-ladder", action="store_true",
                        help="skip the face-size ladder (1080p, ~2 min per preset)")
    parser.add_argument("--skip-long", action="store_true",
                        help="skip the 3-minute montage")
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
            ("hog", HOG),
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
    decode_wall, decode_cpu = decode_only_seconds(montage.path)
    long_rows, long_decode = [], None
    if not args.skip_long and args.montage == "720p":
        long_rows, long_decode = run_long(workdir, reference, args.processes)
    ladder_rows, ladder_decode = [], None
    if not args.skip_ladder:
        ladder_rows, ladder_decode = run_ladders(Path(args.workdir), args.processes)
    print()
    print(f"decode only: {decode_wall:.1f} s wall, {decode_cpu:.1f} s CPU "
          "(ffmpeg -threads 1 -i montage.mp4 -f null -)")
    print_table(rows + ([baseline] if baseline else []), decode_wall)
    by_name = {r["run"]: r for r in rows}
    same = all(abs(a - b) <= 1 for x, y in zip(by_name["interval 5"]["found"], by_name["default"]["found"])
               for a, b in zip(x, y)) and len(by_name["interval 5"]["found"]) == len(by_name["default"]["found"])
    print(f"\n--interval 5 segments {'match' if same else 'DIFFER FROM'} --interval 1 "
          f"(within 1 frame): {by_name['interval 5']['found']} vs {by_name['default']['found']}")
    if baseline:
        print_ratios(rows, baseline)
    if long_rows and long_decode:
        print(f"\n3-minute montage ({long_rows[0]['segments']} segments; decode only: "
              f"{long_decode[0]:.1f} s wall, {long_decode[1]:.1f} s CPU):")
        print_table(long_rows, long_decode[0])
    if ladder_rows and ladder_decode:
        print("\nface-size ladder, 1920x1080 (bench/ladder.py):")
        print_ladder_table(ladder_rows, ladder_decode)


# dlib's HOG detector at 640 px on every frame: the default preset before tiled BlazeFace
HOG = ["--detector", "dlib", "--interval", "1"]


def run_long(workdir: Path, reference: Path, processes: int) -> tuple[list[dict], tuple]:
    """The default preset and --speed on the 720p montage three times over (186 s)."""
    long = montage_builder.build(montage_builder.benchmark_parts() * 3,
                                 workdir / "montage-3min.mp4", 1280, 720)
    rows = []
    for name, extra in (("default 3min", []), ("speed 3min", ["--speed"])):
        rows.append(run_tool(name.replace(" ", "-"), extra, long, reference, workdir, processes))
        rows[-1]["run"] = name
        print(f"  {name}: {rows[-1]['wall']:.1f} s = {rows[-1]['phases']}; segments "
              f"{rows[-1]['found']}", flush=True)
    return rows, decode_only_seconds(long.path)


def run_ladders(workdir: Path, processes: int) -> tuple[list[dict], tuple]:
    """bench/ladder.py's rows: the default preset, --speed and HOG on the size ladder."""
    ladder, reference = build_ladder(workdir)
    rows = []
    for name, extra in (("default", []), ("speed", ["--speed"]), ("hog", HOG)):
        row = run_ladder(name, extra, ladder, reference, workdir, processes)
        rows.append(row)
        print(f"  ladder {name}: {row['wall']:.1f} s; segments {row['found']}; "
              f"{row['others_frames']} found frames outside the truth", flush=True)
    return rows, decode_only_seconds(ladder.path)


if __name__ == "__main__":
    main()
