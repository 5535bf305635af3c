#!/usr/bin/env python3
"""Cost-growth benchmark: how the scan's cost grows with resolution and with faces per frame.

    python bench/growth.py [--workdir bench/out] [--processes 2] [--seconds 30] [--quick]
                           [--resolution 720p|1080p|4K ...] [--faces N ...] [--rebuild]

Why: the issue "See small faces and stay fast" asks for cost growth measured and
bounded: the realtime factor at 720p, 1080p and 4K for both presets (default: no extra
arguments; speed: --speed), and the seconds per frame as the faces on screen grow (1, 5,
15), where the embedding work per frame must stay bounded (tracked faces whose identity
is settled far from the threshold are not re-embedded every few frames), with memory
flat as before. Table 1 (resolution) builds the benchmark montage (tests/montage.py's
benchmark_parts, a prefix of them lasting about --seconds, shortened if need be, always
with the target and someone else; truth: Montage.target_segments) at 1280x720,
1920x1080 and 3840x2160 and runs the real CLI once per preset on each: wall seconds of
the whole command and its realtime factor (video seconds per wall second), the scan
phase's seconds (metadata.json stats.seconds_scan) and realtime factor, CPU seconds of
the command and every process it waited for, peak RSS (largest single process),
frame-level F1 and worst edge error (tests/checks.score), and the floor under it all:
wall and CPU seconds of decoding the video alone on one thread (ffmpeg -threads 1 -i V
-an -f null -) and the run's wall time over that. Table 2 (faces per frame) builds
1920x1080 30 fps videos of about --seconds showing 1, 5 and 15 talking heads for the
whole video (the target d9 once, the others are the six other clips, repeated at other
positions and sizes to reach 15; faces about 100-200 px wide), so the truth is "the
target on every frame", and reports per preset: frames analysed, scan milliseconds per
analysed frame and per video frame, that against the same preset's 1-face video, the
realtime factor of the whole command and of the scan, CPU seconds, peak RSS, the median
number of faces the tool saw per frame (metadata.json's faces_in_frame, recorded on the
target's matched detections), the share of those detections that carry a fresh
embedding (distance not null: a settled track is re-embedded only every 60 frames),
and the F1 of the target. Videos are built once into <workdir>/growth/ and reused while
their recipe and tests/montage.py are unchanged (a 4K montage costs minutes of CPU to
encode). --quick, a sanity check: 5-second videos, table 1 at 720p only (table 2 as usual).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage  # noqa: E402
from checks import score  # noqa: E402
from measure import measure  # noqa: E402

# name -> the CLI arguments it adds
PRESETS: dict[str, list[str]] = {"default": [], "speed": ["--speed"]}
RESOLUTIONS: dict[str, tuple[int, int]] = {
    "720p": (1280, 720), "1080p": (1920, 1080), "4K": (3840, 2160),
}
FACE_COUNTS = (1, 5, 15)
FPS = 30
FRAME = (1920, 1080)  # the faces-per-frame videos' picture
BACKGROUND = "0x303030"
# The target's clip is shown from its first TARGET_SPAN seconds only (looped when the
# video is longer): montage.reference_photo takes the reference at 18.5 s.
TARGET_SPAN = 15
# d19 first: the other man with glasses is among the five as well as the fifteen
OTHERS = ("d19.mp4", "d3.mp4", "d14.mp4", "d10.mp4", "d18.mp4", "d20.mp4")
# A change to how the videos are made (not only to their recipe) must rebuild them.
BUILDER_VERSION = 1


def _say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - the report is this script's output


# --- the videos -----------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One clip in a faces-per-frame video: scaled to `width` px wide (aspect kept),
    its picture's top-left corner at (x, y)."""

    clip: str
    x: int
    y: int
    width: int


@dataclass(frozen=True)
class Crowd:
    """A faces-per-frame video: every tile on every frame, for `frames` frames."""

    path: Path
    faces: int
    frames: int
    tiles: tuple[Tile, ...]

    @property
    def duration(self) -> float:
        return self.frames / FPS

    def target_segments(self) -> list[tuple[int, int]]:
        return [(0, self.frames - 1)]


def _even(value: float) -> int:
    return 2 * round(value / 2)


def _picture_height(clip: str, width: int) -> int:
    source_w, source_h = montage.source_size(montage.CLIPS / clip)
    return _even(width * source_h / source_w)


def crowd_tiles(faces: int) -> tuple[Tile, ...]:
    """Where the `faces` clips go in a 1920x1080 frame. A clip's face box is about half
    its picture's width (d9: 268 of 512 px; d20's, the smallest, 186 of 480), so
    pictures 220-380 px wide give faces of about 100-200 px. The target comes first."""
    frame_w, frame_h = FRAME
    if faces == 1:
        cells = [(frame_w // 2, frame_h // 2, 360)]
    elif faces == 5:
        # one row of five cells, at different heights and sizes
        heights, widths = (420, 640, 470, 600, 500), (340, 300, 360, 260, 320)
        cells = [(192 + 384 * i, heights[i], widths[i]) for i in range(5)]
    elif faces == 15:
        # five columns of three rows (384 x 360 cells), sizes cycling
        sizes = (340, 280, 220)
        cells = [(192 + 384 * (i % 5), 180 + 360 * (i // 5), sizes[(i + i // 5) % 3])
                 for i in range(15)]
        cells.insert(0, cells.pop(7))  # the target in the middle of the frame
    else:
        raise ValueError(f"no layout for {faces} faces (have 1, 5, 15)")
    clips = [montage.TARGET, *(OTHERS[i % len(OTHERS)] for i in range(faces - 1))]
    tiles = []
    for clip, (cx, cy, width) in zip(clips, cells, strict=True):
        height = _picture_height(clip, width)
        tiles.append(Tile(clip, _even(cx - width / 2), _even(cy - height / 2), width))
    for i, tile in enumerate(tiles):
        box = _box(tile)
        if box[0] < 0 or box[1] < 0 or box[2] > frame_w or box[3] > frame_h:
            raise ValueError(f"{tile} leaves the {frame_w}x{frame_h} frame")
        for other in tiles[i + 1:]:
            o = _box(other)
            if box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]:
                raise ValueError(f"{tile} overlaps {other}")
    return tuple(tiles)


def _box(tile: Tile) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a tile's picture, right and bottom exclusive."""
    return (tile.x, tile.y, tile.x + tile.width,
            tile.y + _picture_height(tile.clip, tile.width))


def build_crowd(out: Path, faces: int, seconds: int) -> Crowd:
    """Encode a faces-per-frame video: a grey floor, each other clip looped
    (-stream_loop -1) and split into its copies, the target's first TARGET_SPAN seconds
    looped, all on a 30 fps grid of exactly seconds x 30 frames; audio (AAC) from the
    target's clip, looped. x264 veryfast crf 18 GOP 48, as tests/montage.py encodes;
    every frame's time is checked with ffprobe."""
    tiles = crowd_tiles(faces)
    frames = seconds * FPS
    crowd = Crowd(out, faces, frames, tiles)
    clips = list(dict.fromkeys(tile.clip for tile in tiles))
    inputs: list[str] = []
    filters = [f"color=c={BACKGROUND}:s={FRAME[0]}x{FRAME[1]}:r={FPS}:d={seconds + 1},"
               f"format=yuv420p,trim=end_frame={frames}[m0]"]
    branches: dict[str, list[str]] = {}
    for k, clip in enumerate(clips):
        copies = [f"c{k}_{j}" for j in range(sum(tile.clip == clip for tile in tiles))]
        branches[clip] = copies
        if clip == montage.TARGET:
            inputs += ["-t", str(TARGET_SPAN), "-i", str(montage.CLIPS / clip)]
            head = f"[{k}:v]setpts=PTS-STARTPTS,fps={FPS},trim=end_frame={TARGET_SPAN * FPS}"
        else:
            inputs += ["-stream_loop", "-1", "-i", str(montage.CLIPS / clip)]
            head = f"[{k}:v]setpts=PTS-STARTPTS,fps={FPS},trim=end_frame={frames}"
        split = f"split={len(copies)}" + "".join(f"[s{c}]" for c in copies)
        filters.append(f"{head},{split}")
    for clip, copies in branches.items():
        sized = [tile for tile in tiles if tile.clip == clip]
        for name, tile in zip(copies, sized, strict=True):
            scaled = f"[s{name}]scale={tile.width}:{_picture_height(clip, tile.width)},setsar=1"
            if clip == montage.TARGET and frames > TARGET_SPAN * FPS:
                # scaled first, so the loop holds small frames; times laid anew after
                scaled += (f",loop=loop=-1:size={TARGET_SPAN * FPS}:start=0,"
                           f"setpts=N/({FPS}*TB),trim=end_frame={frames}")
            filters.append(f"{scaled}[{name}]")
    used = dict.fromkeys(clips, 0)  # copies of each clip overlaid so far
    for n, tile in enumerate(tiles):
        name = branches[tile.clip][used[tile.clip]]
        used[tile.clip] += 1
        filters.append(f"[m{n}][{name}]overlay=x={tile.x}:y={tile.y}[m{n + 1}]")
    filters.append(f"[m{len(tiles)}]trim=end_frame={frames},format=yuv420p,"
                   f"settb=1/{montage.TIMESCALE}[v]")
    audio = len(clips)
    inputs += ["-stream_loop", "-1", "-i", str(montage.CLIPS / montage.TARGET)]
    filters.append(f"[{audio}:a]atrim=duration={seconds},asetpts=PTS-STARTPTS,"
                   "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo[a]")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [montage.ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               *inputs, "-filter_complex", ";".join(filters), "-map", "[v]", "-map", "[a]",
               "-c:a", "aac", "-b:a", "160k", "-c:v", "libx264", "-preset", "veryfast",
               "-crf", "18", "-g", "48", "-fps_mode", "passthrough",
               "-video_track_timescale", str(montage.TIMESCALE), "-movflags", "+faststart",
               str(out)]
    measured = measure(command)
    if measured.process.returncode != 0:
        raise RuntimeError(f"building {out} failed: {_tail(measured.process.stderr)}")
    starts = montage.probe_frame_starts(out)
    if len(starts) != frames:
        raise RuntimeError(f"{out} has {len(starts)} frames, expected {frames}")
    wrong = [i for i, start in enumerate(starts) if start * FPS != i]
    if wrong:
        raise RuntimeError(f"{out}: {len(wrong)} frames off the {FPS} fps grid, first "
                           f"{wrong[0]} at {float(starts[wrong[0]])} s")
    return crowd


def select_parts(parts: Sequence[montage.Part], seconds: int) -> list[montage.Part]:
    """The prefix of `parts` whose length is nearest `seconds` among those that show
    the target and someone else; its parts shortened in proportion (at least 1 s
    each) when even the shortest such prefix is more than 20% too long."""
    candidates = []
    for k in range(1, len(parts) + 1):
        prefix = list(parts[:k])
        if any(p.target for p in prefix) and any(p.sources and not p.target for p in prefix):
            candidates.append(prefix)
    if not candidates:
        raise ValueError("the parts never show both the target and someone else")
    chosen = min(candidates, key=lambda prefix: abs(sum(p.seconds for p in prefix) - seconds))
    total = sum(p.seconds for p in chosen)
    if total > seconds * 1.2:
        chosen = [replace(p, seconds=max(1, round(p.seconds * seconds / total)))
                  for p in chosen]
    return chosen


def _digest(recipe: Any) -> str:
    digest = hashlib.sha256(json.dumps([BUILDER_VERSION, recipe], sort_keys=True,
                                       default=str).encode())
    digest.update((ROOT / "tests" / "montage.py").read_bytes())
    return digest.hexdigest()


def _ensure(folder: Path, stem: str, recipe: Any, rebuild: bool,
            build: Callable[[Path], object]) -> tuple[Path, str]:
    """<folder>/<stem>.mp4, built by `build` unless one built before from the same
    recipe and builders is kept there (its record, <stem>.json, says so); and how it
    came to be (built or kept, and how long building it took)."""
    video, record = folder / f"{stem}.mp4", folder / f"{stem}.json"
    digest = _digest(recipe)
    if not rebuild and video.is_file() and record.is_file():
        kept = json.loads(record.read_text())
        if kept.get("builder") == digest and kept.get("bytes") == video.stat().st_size:
            return video, f"kept, built in {kept['build_seconds']} s"
    started = time.monotonic()
    build(video)
    took = time.monotonic() - started
    record.write_text(json.dumps({"builder": digest, "bytes": video.stat().st_size,
                                  "build_seconds": round(took, 1), "recipe": recipe},
                                 indent=1, default=str))
    return video, f"built in {took:.1f} s"


def montage_video(folder: Path, name: str, width: int, height: int, seconds: int,
                  rebuild: bool) -> tuple[montage.Montage, str]:
    """The benchmark montage at width x height (built, or kept from before), and how
    it came to be."""
    parts = select_parts(montage.benchmark_parts(), seconds)
    recipe = {"parts": [asdict(p) for p in parts], "size": [width, height]}
    video, how = _ensure(folder, f"montage-{name}-{seconds}s", recipe, rebuild,
                         lambda out: montage.build(parts, out, width, height))
    return montage.Montage(video, parts, width, height), how


def crowd_video(folder: Path, faces: int, seconds: int, rebuild: bool) -> tuple[Crowd, str]:
    """The faces-per-frame video with `faces` people (built, or kept from before)."""
    tiles = crowd_tiles(faces)
    recipe = {"tiles": [asdict(t) for t in tiles], "seconds": seconds, "fps": FPS,
              "frame": FRAME, "span": TARGET_SPAN}
    video, how = _ensure(folder, f"faces-{faces}-{seconds}s", recipe, rebuild,
                         lambda out: build_crowd(out, faces, seconds))
    return Crowd(video, faces, seconds * FPS, tiles), how


# --- the runs -------------------------------------------------------------------------


def _tail(stderr: str, lines: int = 15) -> str:
    """The last lines of a measured command's stderr, without measure()'s own two."""
    kept = [line for line in stderr.strip().splitlines()
            if not line.startswith(("cpu_seconds ", "peak_rss_kib "))]
    return "\n".join(kept[-lines:])


def run_tool(name: str, video: Path, reference: Path, out: Path, processes: int,
             truth: list[tuple[int, int]], duration: float) -> dict[str, Any]:
    """Run the CLI with preset `name` on `video`; its cost and score. A run that exits
    with anything but 0 (found) or 1 (not found) gives a row with "error" set."""
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(video),
               "--reference", str(reference), "--num_processes", str(processes),
               "--output", str(out), "--overwrite", "--quiet", "--no-cache", *PRESETS[name]]
    started = time.monotonic()
    measured = measure(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    row: dict[str, Any] = {"preset": name, "wall": wall, "cpu": measured.cpu_seconds,
                           "peak_rss_mb": measured.peak_mib, "duration": duration}
    code = measured.process.returncode
    metadata = out / "metadata.json"
    if code not in (0, 1) or not metadata.is_file():
        row["error"] = f"exit {code}"
        _say(f"  {name} on {video.name}: FAILED, exit {code}; stderr ends:")
        for line in _tail(measured.process.stderr).splitlines():
            _say(f"    {line}")
        return row
    doc = json.loads(metadata.read_text())
    stats = doc["stats"]
    measured_score = score(doc["segments"], truth)
    detections = [d for segment in doc["segments"] for d in segment.get("detections", [])]
    duration = doc["video"]["duration"] or duration
    row.update({
        "duration": duration, "frames": doc["video"]["frame_count"],
        "analysed": stats["frames_analysed"], "scan": stats["seconds_scan"],
        "realtime": duration / wall,
        "scan_realtime": duration / stats["seconds_scan"] if stats["seconds_scan"] else None,
        "f1": measured_score.f1, "worst": measured_score.worst_boundary,
        "segments": f"{measured_score.segments}/{measured_score.truth_segments}",
        "found": [(s["start_frame"], s["end_frame"]) for s in doc["segments"]],
        "faces_seen": statistics.median(d["faces_in_frame"] for d in detections)
        if detections else None,
        "faces_max": max((d["faces_in_frame"] for d in detections), default=None),
        "embedded": sum(d["distance"] is not None for d in detections) / len(detections)
        if detections else None,
        "detections": len(detections),
    })
    _say(f"  {name} on {video.name}: {wall:.1f} s wall (scan {stats['seconds_scan']:.1f} s, "
         f"{stats['frames_analysed']} frames analysed, {stats.get('frames_refined', '?')} "
         f"refined), CPU {measured.cpu_seconds:.1f} s; segments {row['found']}")
    return row


def decode_only(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of decoding `path`'s picture alone on one thread: the
    floor any scan of it stands on."""
    started = time.monotonic()
    measured = measure([montage.ffmpeg(), "-nostdin", "-v", "error", "-threads", "1",
                        "-i", str(path), "-an", "-f", "null", "-"])
    wall = time.monotonic() - started
    if measured.process.returncode != 0:
        raise RuntimeError(f"decoding {path} failed: {_tail(measured.process.stderr)}")
    return wall, measured.cpu_seconds


# --- the tables -----------------------------------------------------------------------


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def print_resolution_table(rows: Sequence[dict[str, Any]]) -> None:
    header = (f"{'resolution':<10} {'preset':<8} {'wall s':>7} {'x realtime':>10} "
              f"{'scan s':>7} {'scan x rt':>9} {'CPU s':>6} {'peak RSS MB':>11} {'F1':>6} "
              f"{'worst edge':>10} {'decode s':>8} {'decode CPU':>10} {'x decode':>8}")
    _say(header)
    _say("-" * len(header))
    for r in rows:
        start = f"{r['resolution']:<10} {r['preset']:<8} "
        decode = f"{r['decode'][0]:>8.1f} {r['decode'][1]:>10.1f}"
        if "error" in r:
            _say(f"{start}{'FAILED (' + r['error'] + ')':<73} {decode}")
            continue
        worst = "n/a" if r["worst"] is None else f"{r['worst']} fr"
        _say(f"{start}{r['wall']:>7.1f} {r['realtime']:>10.2f} {r['scan']:>7.1f} "
             f"{_num(r['scan_realtime'], 9, 2)} {r['cpu']:>6.1f} {r['peak_rss_mb']:>11.0f} "
             f"{r['f1']:>6.3f} {worst:>10} {decode} {r['wall'] / r['decode'][0]:>7.1f}x")


def print_faces_table(rows: Sequence[dict[str, Any]]) -> None:
    header = (f"{'faces':>5} {'preset':<8} {'analysed':>8} {'scan s':>7} {'ms/analysed':>11} "
              f"{'ms/frame':>8} {'x 1 face':>8} {'x realtime':>10} {'scan x rt':>9} "
              f"{'CPU s':>6} {'peak RSS MB':>11} {'faces seen':>11} {'embedded':>8} {'F1':>6}")
    _say(header)
    _say("-" * len(header))
    one = {r["preset"]: r for r in rows if r["faces"] == 1 and "error" not in r}
    for r in rows:
        start = f"{r['faces']:>5} {r['preset']:<8} "
        if "error" in r:
            _say(f"{start}FAILED ({r['error']})")
            continue
        per_analysed = 1000 * r["scan"] / r["analysed"] if r["analysed"] else None
        per_frame = 1000 * r["scan"] / r["frames"]
        base = one.get(r["preset"])
        growth = (f"{per_frame / (1000 * base['scan'] / base['frames']):>7.2f}x"
                  if base and base["scan"] else f"{'n/a':>8}")
        seen = "n/a" if r["faces_seen"] is None else f"{r['faces_seen']:g} (max {r['faces_max']})"
        embedded = "n/a" if r["embedded"] is None else f"{r['embedded']:.0%}"
        _say(f"{start}{r['analysed']:>8} {r['scan']:>7.1f} {_num(per_analysed, 11, 1)} "
             f"{per_frame:>8.1f} {growth} {r['realtime']:>10.2f} "
             f"{_num(r['scan_realtime'], 9, 2)} {r['cpu']:>6.1f} {r['peak_rss_mb']:>11.0f} "
             f"{seen:>11} {embedded:>8} {r['f1']:>6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=30,
                        help="about how long each video lasts (default 30)")
    parser.add_argument("--resolution", action="extend", nargs="+", choices=list(RESOLUTIONS),
                        help="resolutions of table 1 (default: all; --quick: 720p)")
    parser.add_argument("--faces", action="extend", nargs="+", type=int, choices=FACE_COUNTS,
                        help="faces per frame of table 2 (default: 1 5 15)")
    parser.add_argument("--preset", action="extend", nargs="+", choices=list(PRESETS),
                        help="presets to run (default: both)")
    parser.add_argument("--quick", action="store_true",
                        help="a sanity check: 5-second videos, 720p only")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the videos even if ones built by the same recipe are kept")
    args = parser.parse_args()
    seconds = 5 if args.quick else args.seconds
    resolutions = list(dict.fromkeys(args.resolution or (["720p"] if args.quick else RESOLUTIONS)))
    face_counts = sorted(set(args.faces or FACE_COUNTS))
    presets = list(dict.fromkeys(args.preset or PRESETS))
    workdir = Path(args.workdir).resolve() / "growth"
    workdir.mkdir(parents=True, exist_ok=True)
    reference = montage.reference_photo(workdir / "reference.png")
    _say(f"{args.processes} processes; {os.cpu_count()} CPUs; about {seconds} s per video; "
         f"presets {', '.join(presets)}; reference {reference}")

    resolution_rows = []
    for name in resolutions:
        width, height = RESOLUTIONS[name]
        video, how = montage_video(workdir, name, width, height, seconds, args.rebuild)
        duration = float(video.time_of(video.frame_count))
        truth = video.target_segments()
        _say(f"montage {name}: {video.path} ({video.frame_count} frames, {duration:.1f} s, "
             f"{width}x{height}, {len(video.parts)} parts; {how}), truth {truth}")
        decode = decode_only(video.path)
        _say(f"  decode only: {decode[0]:.1f} s wall, {decode[1]:.1f} s CPU")
        for preset in presets:
            row = run_tool(preset, video.path, reference,
                           workdir / f"results-{name}-{preset}", args.processes, truth, duration)
            row.update({"resolution": name, "decode": decode})
            resolution_rows.append(row)

    face_rows = []
    for faces in face_counts:
        crowd, how = crowd_video(workdir, faces, seconds, args.rebuild)
        clips = ", ".join(f"{t.clip}@{t.width}px" for t in crowd.tiles)
        _say(f"faces {faces}: {crowd.path} ({crowd.frames} frames, {crowd.duration:.1f} s, "
             f"{FRAME[0]}x{FRAME[1]}; {how}): {clips}")
        for preset in presets:
            row = run_tool(preset, crowd.path, reference,
                           workdir / f"results-faces{faces}-{preset}", args.processes,
                           crowd.target_segments(), crowd.duration)
            row["faces"] = faces
            face_rows.append(row)

    _say()
    if resolution_rows:
        _say("Resolution (benchmark montage; x decode: the run's wall over decoding alone)")
        print_resolution_table(resolution_rows)
        _say()
    if face_rows:
        _say(f"Faces per frame ({FRAME[0]}x{FRAME[1]} {FPS} fps, the target on every frame; "
             "ms of scan per analysed / video frame; x 1 face: ms/frame over the preset's "
             "1-face video; faces seen: median (max) faces_in_frame on the target's matched "
             "frames; embedded: share of those with a fresh embedding)")
        print_faces_table(face_rows)


if __name__ == "__main__":
    main()
