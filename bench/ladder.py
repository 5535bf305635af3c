#!/usr/bin/env python3
"""Face-size ladder benchmark: the smallest face each preset finds, and what it costs.

    python bench/ladder.py [--workdir bench/out] [--processes 2]
                           [--preset default|speed|hog ...] [--rebuild]

Builds tests/ladder.py's ladder once (33 s of 1920x1080 at 30 fps: the target at face
widths 160, 120, 96, 72, 56, 48, 40 and 32 px, 3 s each after 1 s without him, among six
other people talking throughout, faces 40-200 px; kept in <workdir>/ladder/ and reused
while tests/ladder.py and tests/montage.py are unchanged), then runs the real CLI once
per preset (default: no extra arguments; speed: --speed; hog: --detector dlib, also
accepted as "dlib") and prints one table.

Why: the detector's smallest face decides whether the target is found in a wide shot
at all; this measures it on real faces at known sizes, with people the detector will
find as well (some as small as the target), so a smaller face found at the price of
matching someone else shows.

Columns: recall at each face size (share of that size's frames inside a found
segment), the smallest size found (recall >= 90%), frame-level F1 and worst edge error
(tests/checks.score against every size's frames), the same F1 over the sizes the run
looked for (those at or above its --min-face, from metadata.json's settings: a preset
set to 48 px is not faulted for missing 32 px), whether any found frame lies outside
every truth range (someone else matched), the share of matched detections whose box
centre lies on the target's known face box, wall time of the command, video seconds
per wall second, CPU seconds of the command and every process it waited for, and wall
time over decoding the ladder alone (ffmpeg -threads 1 -i ladder.mp4 -f null -).

bench/run.py can import build_ladder, run_ladder, decode_only_seconds and
print_ladder_table with the project root on sys.path (`from bench.ladder import ...`):
`import ladder` finds tests/ladder.py, whose name this file shares.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage  # noqa: E402
from checks import predicted_frames, score  # noqa: E402
from measure import measure  # noqa: E402


def _tests_ladder() -> ModuleType:
    """tests/ladder.py. This file has the same name, so `import ladder` finds one or the
    other depending on sys.path and on how this file was started or imported: load it
    by its path, as `ladder` (the name the tests import it by) unless that is taken."""
    path = ROOT / "tests" / "ladder.py"
    known = sys.modules.get("ladder")
    if known is not None and Path(getattr(known, "__file__", "")).resolve() == path:
        return known
    name = "ladder" if known is None and __name__ != "ladder" else "tests_ladder"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


ladder_video = _tests_ladder()

# name -> the CLI arguments it adds
PRESETS: dict[str, list[str]] = {
    "default": [],
    "speed": ["--speed"],
    "hog": ["--detector", "dlib"],
}
ALIASES = {"dlib": "hog"}
FOUND = 0.9  # a size counts as found when this share of its frames is


def _say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - the report is this script's output


def _builder_digest() -> str:
    """What a kept ladder was built by: a change to the builders rebuilds it."""
    digest = hashlib.sha256()
    for name in ("ladder.py", "montage.py"):
        digest.update((ROOT / "tests" / name).read_bytes())
    return digest.hexdigest()


def build_ladder(workdir: Path, rebuild: bool = False) -> tuple[Any, Path]:
    """The ladder (tests/ladder.Ladder) in <workdir>/ladder/, and a reference photo of
    the target from a moment it does not show. A ladder built before by the same
    builders is reused (it costs ~1 min of CPU to encode); `rebuild` builds it anyway."""
    folder = workdir.resolve() / "ladder"
    folder.mkdir(parents=True, exist_ok=True)
    video, record = folder / "ladder.mp4", folder / "ladder.json"
    reference = montage.reference_photo(folder / "reference.png")
    digest = _builder_digest()
    if not rebuild and video.is_file() and record.is_file():
        kept = json.loads(record.read_text())
        if kept.get("builder") == digest and kept.get("bytes") == video.stat().st_size:
            # where the video is now (the record keeps where it was built)
            return replace(ladder_video.Ladder.from_dict(kept["ladder"]), path=video), reference
    ladder = ladder_video.build(video)
    record.write_text(json.dumps({"builder": digest, "bytes": video.stat().st_size,
                                  "ladder": ladder.to_dict()}, indent=1))
    return ladder, reference


def f1_from(size: int, segments: Sequence[dict], ladder: Any) -> float:
    """Frame F1 over the rungs of `size` px and up; frames of smaller rungs count
    neither way (pure)."""
    found = predicted_frames(segments)
    ignored = {f for rung in ladder.rungs if rung.size < size for f in rung.frames}
    truth = {f for rung in ladder.rungs if rung.size >= size for f in rung.frames}
    found -= ignored
    hits = len(found & truth)
    if not hits:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def score_ladder(segments: Sequence[dict], ladder: Any,
                 min_face: int | None = None) -> dict[str, Any]:
    """How metadata.json's `segments` fare on `ladder`, size by size (pure); `min_face`
    is the smallest face the run looked for (None: every size counts)."""
    found = predicted_frames(segments)
    truth = ladder.target_frames()
    recall = [len(found.intersection(rung.frames)) / len(rung.frames) for rung in ladder.rungs]
    sizes = [rung.size for rung in ladder.rungs]
    found_sizes = [size for size, share in zip(sizes, recall, strict=True) if share >= FOUND]
    # every matched detection: on the target's box (its centre inside the box the
    # ladder records for the rung on screen), on another person's, or elsewhere
    on_target, on_others, widths = 0, 0, {size: [] for size in sizes}
    detections = [d for segment in segments for d in segment.get("detections", [])]
    for detection in detections:
        box = detection["box"]
        cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
        rung = ladder.rung_at(detection["frame"])
        if rung is not None and rung.face.contains(cx, cy):
            on_target += 1
            widths[rung.size].append(box["w"])
        elif any(person.face.contains(cx, cy) for person in ladder.others):
            on_others += 1
    measured = score(segments, ladder.target_segments())
    outside = sorted(found - truth)
    return {
        "sizes": sizes, "recall_by_size": recall,
        "smallest": min(found_sizes, default=None),
        "precision": measured.precision, "recall": measured.recall, "f1": measured.f1,
        "min_face": min_face,
        "f1_asked": f1_from(min_face or 0, segments, ladder),
        "worst": measured.worst_boundary,
        "segments": f"{measured.segments}/{measured.truth_segments}",
        "others_frames": len(outside), "others": bool(outside),
        "outside": outside,
        "detections": len(detections), "on_target": on_target, "on_others": on_others,
        # median width of the boxes found on the target, per size (calibration check)
        "box_widths": {size: statistics.median(w) for size, w in widths.items() if w},
        "found": [(s["start_frame"], s["end_frame"]) for s in segments],
    }


def run_ladder(name: str, extra_args: list[str], ladder: Any, reference: Path, workdir: Path,
               processes: int) -> dict[str, Any]:
    """Run the CLI on the ladder with `extra_args`; score it (score_ladder) and add
    its cost: wall and CPU seconds (tests/measure.py: the command and every process it
    waited for), realtime factor, peak RSS."""
    out = workdir / "ladder" / f"results-{name}"
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(ladder.path),
               "--reference", str(reference), "--num_processes", str(processes),
               "--output", str(out), "--overwrite", "--quiet", "--no-cache", *extra_args]
    started = time.monotonic()
    measured = measure(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    process = measured.process
    if process.returncode not in (0, 1):  # 1: not found, still a result
        raise RuntimeError(f"{name}: exit {process.returncode}: {process.stderr.strip()[-2000:]}")
    doc = json.loads((out / "metadata.json").read_text())
    row = score_ladder(doc["segments"], ladder, doc["settings"].get("min_face"))
    row.update({
        "run": name, "args": extra_args, "wall": wall,
        "realtime": float(ladder.duration) / wall, "cpu": measured.cpu_seconds,
        "peak_rss_mb": measured.peak_mib,
        "frames_analysed": doc["stats"]["frames_analysed"],
        "seconds_scan": doc["stats"]["seconds_scan"],
    })
    return row


def decode_only_seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of decoding `path` alone on one thread: the floor any scan
    of it stands on."""
    started = time.monotonic()
    measured = measure([montage.ffmpeg(), "-nostdin", "-v", "error", "-threads", "1",
                        "-i", str(path), "-f", "null", "-"])
    wall = time.monotonic() - started
    if measured.process.returncode != 0:
        raise RuntimeError(f"decoding {path} failed: {measured.process.stderr.strip()[-2000:]}")
    return wall, measured.cpu_seconds


def print_ladder_table(rows: Sequence[dict[str, Any]], decode: tuple[float, float]) -> None:
    """One line per run: recall at each size, then the overall scores and the cost."""
    if not rows:
        return
    sizes = rows[0]["sizes"]
    header = (f"{'preset':<10} " + " ".join(f"{f'{s}px':>5}" for s in sizes)
              + f" {'smallest':>8} {'F1':>6} {'F1 asked':>12} {'worst edge':>10} {'others':>6}"
              f" {'on box':>6}"
              f" {'wall s':>7} {'x realtime':>10} {'CPU s':>6} {'x decode':>8}")
    _say(header)
    _say("-" * len(header))
    for r in rows:
        smallest = "none" if r["smallest"] is None else f"{r['smallest']} px"
        worst = "n/a" if r["worst"] is None else f"{r['worst']} fr"
        on_box = f"{r['on_target'] / r['detections']:.0%}" if r["detections"] else "n/a"
        # F1 over the sizes at or above the run's --min-face
        asked = f"{r['f1_asked']:.3f} >={r['min_face'] or 0}"
        _say(f"{r['run']:<10} " + " ".join(f"{share:>5.0%}" for share in r["recall_by_size"])
             + f" {smallest:>8} {r['f1']:>6.3f} {asked:>12} {worst:>10}"
             f" {'yes' if r['others'] else 'no':>6}"
             f" {on_box:>6} {r['wall']:>7.1f} {r['realtime']:>10.2f} {r['cpu']:>6.1f}"
             f" {r['wall'] / decode[0]:>7.1f}x")
    _say(f"decode only (ffmpeg -threads 1 ... -f null -): {decode[0]:.1f} s wall, "
         f"{decode[1]:.1f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--preset", action="extend", nargs="+",
                        choices=[*PRESETS, *ALIASES], help="presets to run (default: all)")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the ladder even if one built by the same code is kept")
    args = parser.parse_args()
    names = list(dict.fromkeys(ALIASES.get(n, n) for n in args.preset or PRESETS))
    workdir = Path(args.workdir)
    started = time.monotonic()
    ladder, reference = build_ladder(workdir, args.rebuild)
    _say(f"ladder: {ladder.path} ({ladder.frame_count} frames, {float(ladder.duration):.0f} s, "
         f"{ladder.width}x{ladder.height}, {ladder.fps} fps; ready in "
         f"{time.monotonic() - started:.1f} s), target at {[r.size for r in ladder.rungs]} px "
         f"on {ladder.target_segments()}, {len(ladder.others)} others "
         f"({', '.join(f'{p.clip} {p.face_width} px' for p in ladder.others)}); "
         f"{args.processes} processes; {os.cpu_count()} CPUs")
    decode = decode_only_seconds(ladder.path)
    rows = []
    for name in names:
        try:
            row = run_ladder(name, PRESETS[name], ladder, reference, workdir, args.processes)
        except RuntimeError as error:  # one preset's failure still leaves the others' rows
            _say(f"  {name}: FAILED: {error}")
            continue
        rows.append(row)
        widths = ", ".join(f"{size}->{w:.0f}" for size, w in row["box_widths"].items())
        _say(f"  {name}: {row['wall']:.1f} s (scan {row['seconds_scan']:.1f} s, "
             f"{row['frames_analysed']} frames analysed); segments {row['found']}; "
             f"{row['others_frames']} found frames outside the truth; detections "
             f"{row['on_target']}/{row['detections']} on the target's box, "
             f"{row['on_others']} on others'; target box widths (asked->median found) "
             f"{widths or 'none'}")
    _say()
    print_ladder_table(rows, decode)


if __name__ == "__main__":
    main()
