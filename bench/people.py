#!/usr/bin/env python3
"""Grouping face tracks into people with no photo, measured: purity and completeness
of facecut.grouping over a sweep of link distances, on a labelled montage of the 7
people of ../shared/media (6 of them side by side in 3 pairs; each seen 2-3 times
apart).

    python bench/people.py [--workdir bench/out/people] [--preset default|speed]

The tool scans the montage once (--dry-run; the photo only decides which faces are
embedded more often, and every track gets its first and last embedding). Its scan
cache holds every face track: its boxes per analysed frame and its embeddings. Each
track's true person is where its boxes sit in the montage's known layout (the source
whose picture holds the box's centre, by majority over its frames).

Columns: the link distance; people found (groups with at least one placed track) and
true; purity (of the frames grouped, the share in a group's majority person); completeness
(of each true person's grouped frames, the share in their largest group, averaged
over people); frames left unsorted (tracks too short or small to place); grouping
time.
"""
from __future__ import annotations

import argparse
import os
import json
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import montage as montage_builder  # noqa: E402
from montage import Part  # noqa: E402

from facecut.cache import decode  # noqa: E402
from facecut.grouping import TrackSample, group  # noqa: E402

# Seven people, each on screen 2-3 times with others between, six of them side by side
# in three pairs; a faceless second. 30 fps, 36 s.
PARTS = [
    Part(("d3.mp4",), 0, 3, 30, False),
    Part(("d9.mp4",), 0, 3, 30, False),
    Part(("d10.mp4", "d14.mp4"), 0, 3, 30, False),
    Part(("d18.mp4",), 0, 3, 30, False),
    Part(("d19.mp4",), 0, 3, 30, False),
    Part(("d20.mp4",), 0, 3, 30, False),
    Part(("d3.mp4",), 4, 3, 30, False),
    Part(("d9.mp4", "d18.mp4"), 4, 3, 30, False),
    Part((), 0, 1, 30, False),
    Part(("d14.mp4",), 5, 3, 30, False),
    Part(("d10.mp4",), 5, 3, 30, False),
    Part(("d19.mp4", "d20.mp4"), 4, 2, 30, False),
    Part(("d9.mp4",), 8, 3, 30, False),
]
LINKS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65)
MIN_FRAMES = 3  # analysed frames: a track seen on fewer is unsorted
MIN_FACE = 24  # px: dlib's embedding of a smaller face is unreliable


def owner(montage: montage_builder.Montage, frame: int, box: list[int]) -> str | None:
    """The source whose picture holds the centre of `box` in `frame`, or None."""
    first = 0
    for index, part in enumerate(montage.parts):
        if frame < first + part.frames:
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            for source, (left, top, right, bottom) in zip(part.sources,
                                                          montage.content_boxes(index)):
                if left <= cx < right and top <= cy < bottom:
                    return source
            return None
        first += part.frames
    return None


def tracks_from_cache(results: Path, montage: montage_builder.Montage) -> tuple[
        list[TrackSample], dict[int, Counter]]:
    """Every first-pass track: its embeddings, frames, face width; and its truth
    votes (source -> frames)."""
    votes: dict[int, Counter] = defaultdict(Counter)
    widths: dict[int, list[int]] = defaultdict(list)
    ends: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for path in sorted(results.glob(".facecut-cache/*/chunk-*.json")):
        result = decode(json.loads(path.read_text()))
        ends.update(result.track_ends)
        for frame in result.frames:
            for face in frame.faces:
                if face.track < 0:
                    continue
                box = [face.box.x, face.box.y, face.box.w, face.box.h]
                votes[face.track][owner(montage, frame.frame, box) or "nobody"] += 1
                widths[face.track].append(face.box.w)
    tracks = [TrackSample(track, np.stack(ends[track]) if track in ends else np.zeros((0, 128)),
                          sum(votes[track].values()), int(np.median(widths[track])))
              for track in sorted(votes)]
    return tracks, votes


def score(grouping, votes: dict[int, Counter]) -> tuple[float, float, float, float, int]:
    """Purity (over all grouped frames, and the worst group's), completeness (mean
    over true people, and the worst person's), frames unsorted."""
    grouped_frames = 0
    majority_frames = 0
    purities = []
    per_person_groups: dict[str, Counter] = defaultdict(Counter)
    for number, person in enumerate(grouping.people):
        frames: Counter = Counter()
        for key in person.keys:
            frames.update(votes[key])
        grouped_frames += sum(frames.values())
        majority_frames += max(frames.values())
        purities.append(max(frames.values()) / sum(frames.values()))
        for source, count in frames.items():
            per_person_groups[source][number] += count
    purity = majority_frames / grouped_frames if grouped_frames else 1.0
    completeness = [max(groups.values()) / sum(groups.values())
                    for source, groups in per_person_groups.items() if source != "nobody"]
    unsorted = sum(sum(votes[key].values()) for key in grouping.unsorted)
    return (purity, min(purities, default=1.0), float(np.mean(completeness)),
            min(completeness, default=0.0), unsorted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "people"))
    parser.add_argument("--preset", choices=("default", "speed"), default="default")
    options = parser.parse_args()
    workdir = Path(options.workdir)
    montage = montage_builder.build(PARTS, workdir / "people.mp4", 1280, 720)
    reference = montage_builder.reference_photo(workdir / "reference.png")
    results = workdir / f"results-{options.preset}"
    shutil.rmtree(results, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "video_inference.py"), "--video",
                    str(montage.path), "--reference", str(reference), "--dry-run", "--quiet",
                    "--output", str(results), *(["--speed"] if options.preset == "speed" else [])],
                   check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    scan = time.monotonic() - started
    tracks, votes = tracks_from_cache(results, montage)
    truth = {source for part in PARTS for source in part.sources}
    embedded = sum(1 for t in tracks if len(t.embeddings))
    print(f"montage: {montage.path} ({montage.frame_count} frames, {len(truth)} people); "
          f"preset {options.preset}: scan {scan:.1f} s; {len(tracks)} tracks "
          f"({embedded} embedded), {sum(t.frames for t in tracks)} track frames")
    print(f"{'link':>5} {'found':>5} {'true':>4} {'purity':>7} {'worst':>7} {'complete':>8} "
          f"{'worst':>7} {'unsorted fr':>11} {'ms':>6}")
    for link in LINKS:
        clock = time.perf_counter()
        grouping = group(tracks, "euclidean", link, MIN_FRAMES, MIN_FACE)
        ms = (time.perf_counter() - clock) * 1000
        purity, worst_purity, completeness, worst_complete, unsorted = score(grouping, votes)
        print(f"{link:>5.2f} {len(grouping.people):>5} {len(truth):>4} {purity:>7.4f} "
              f"{worst_purity:>7.4f} {completeness:>8.4f} {worst_complete:>7.4f} "
              f"{unsorted:>11} {ms:>6.1f}")


if __name__ == "__main__":
    main()
