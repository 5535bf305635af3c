#!/usr/bin/env python3
"""Several people in one scan, and the people found with no photo, measured on a
labelled montage of the 7 people of ../shared/media (6 of them side by side in 3
pairs; each seen 2-3 times apart; 36 s of 720p at 30 fps).

    python bench/people.py [--workdir bench/out/people] [--preset default|speed]
                           [--skip-named] [--skip-scale] [--long]

1. Named people: one scan with a photo of each of the 7 (`--reference NAME=PHOTO` x 7),
   against 7 one-person runs: each person's frame F1, and the wall times.
2. No photo: the real CLI with no --reference. People found against the truth; purity
   (of the faces a found person holds, the share that are their majority person's,
   by where each face's box sits in the montage's layout) and completeness (of a true
   person's faces that were grouped, the share in their largest group); frames left
   unsorted. Then one rerun with --person for everyone (from the scan cache: the
   chunks it read are printed) and each person's frame F1 against the truth, beside
   the one-photo search's F1 from step 1.
3. The link distance swept over the same scan (reruns from the scan cache).
4. Scale: grouping synthetic tracks (k people, 4 embeddings a track), by count.
5. --long: the 2-hour video of bench/soak.py (117 copies of the 62 s 720p benchmark
   montage, 7 people), with no photo and --speed: wall, tracks, grouping time, people
   found, purity and completeness, peak RSS.

The photos are stills from moments of each clip the montage does not use.
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

from checks import score  # noqa: E402
from facecut.config import DiscoverySettings  # noqa: E402
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
LINKS = (0.30, 0.35, 0.40, 0.45, 0.475, 0.50, 0.55, 0.575, 0.60, 0.65)
# a moment of each clip that PARTS never shows, for its photo
PHOTO_AT = {"d3.mp4": 10.5, "d9.mp4": 18.5, "d10.mp4": 13.0, "d14.mp4": 15.0,
            "d18.mp4": 7.0, "d19.mp4": 7.5, "d20.mp4": 6.5}
SCALE = (500, 1000, 2000, 4000)


_LAYOUT: dict[tuple[int, int], list] = {}


def layout(montage: montage_builder.Montage, index: int) -> list:
    """montage.content_boxes, kept (each call probes the sources)."""
    key = (id(montage), index)
    if key not in _LAYOUT:
        _LAYOUT[key] = montage.content_boxes(index)
    return _LAYOUT[key]


def owner(montage: montage_builder.Montage, frame: int, box: dict) -> str | None:
    """The source whose picture holds the centre of `box` in `frame`, or None."""
    first = 0
    for index, part in enumerate(montage.parts):
        if frame < first + part.frames:
            cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
            for source, (left, top, right, bottom) in zip(part.sources, layout(montage, index)):
                if left <= cx < right and top <= cy < bottom:
                    return source
            return None
        first += part.frames
    return None


def truth(montage: montage_builder.Montage, source: str) -> list[tuple[int, int]]:
    return montage.source_segments(source)


def facecut(*args: str) -> tuple[dict, float, str]:
    """Run the CLI; its metadata.json, wall seconds and stderr."""
    started = time.monotonic()
    out = args[args.index("--output") + 1]
    done = subprocess.run([sys.executable, str(ROOT / "video_inference.py"), *args, "--quiet"],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        sys.exit(f"facecut {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads((Path(out) / "metadata.json").read_text()), wall, done.stderr


def of(doc: dict, person: str) -> list[dict]:
    return [s for s in doc["segments"] if s["person"] == person]


def grouping_scores(doc: dict, montage: montage_builder.Montage
                    ) -> tuple[dict[str, str], float, float, float, float]:
    """Each found person's majority source; purity (overall, worst person);
    completeness (mean over true people, worst), from every detection's box."""
    faces: dict[str, Counter] = defaultdict(Counter)
    for segment in doc["segments"]:
        for detection in segment["detections"]:
            source = owner(montage, detection["frame"], detection["box"]) or "nobody"
            faces[segment["person"]][source] += 1
    majority = {person: counts.most_common(1)[0][0] for person, counts in faces.items()}
    held = sum(sum(c.values()) for c in faces.values())
    purity = sum(c.most_common(1)[0][1] for c in faces.values()) / held if held else 1.0
    worst_purity = min((c.most_common(1)[0][1] / sum(c.values()) for c in faces.values()),
                       default=1.0)
    by_source: dict[str, Counter] = defaultdict(Counter)
    for person, counts in faces.items():
        for source, count in counts.items():
            by_source[source][person] += count
    complete = [max(c.values()) / sum(c.values()) for s, c in by_source.items() if s != "nobody"]
    return (majority, purity, worst_purity, float(np.mean(complete)) if complete else 0.0,
            min(complete, default=0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "people"))
    parser.add_argument("--preset", choices=("default", "speed"), default="default")
    parser.add_argument("--skip-named", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--long", action="store_true", help="only step 5, the 2-hour video")
    options = parser.parse_args()
    if options.long:
        long_video(Path(options.workdir))
        return
    workdir = Path(options.workdir)
    preset = ["--speed"] if options.preset == "speed" else []
    montage = montage_builder.build(PARTS, workdir / "people.mp4", 1280, 720)
    sources = sorted({source for part in PARTS for source in part.sources})
    photos = {source: montage_builder.reference_photo(workdir / f"{Path(source).stem}.png",
                                                      source, PHOTO_AT[source])
              for source in sources}
    video = ["--video", str(montage.path), "--num_processes", "2", *preset]
    print(f"montage: {montage.path} ({montage.frame_count} frames, {len(sources)} people); "
          f"preset {options.preset}")

    alone: dict[str, float] = {}
    if not options.skip_named:
        results = workdir / f"named-{options.preset}"
        shutil.rmtree(results, ignore_errors=True)
        named = [f"--reference={Path(s).stem}={photos[s]}" for s in sources]
        together, wall, _ = facecut(*video, *named, "--dry-run", "--no-cache",
                                    "--output", str(results))
        walls: list[float] = []
        scans: list[float] = []
        rows = []
        for source in sources:
            single = workdir / f"alone-{options.preset}-{Path(source).stem}"
            shutil.rmtree(single, ignore_errors=True)
            doc, took, _ = facecut(*video, "--reference", str(photos[source]), "--dry-run",
                                   "--no-cache", "--output", str(single))
            walls.append(took)
            scans.append(doc["stats"]["seconds_scan"])
            alone[source] = score(doc["segments"], truth(montage, source)).f1
            both = score(of(together, Path(source).stem), truth(montage, source)).f1
            rows.append((source, both, alone[source], took, doc["stats"]["seconds_scan"]))
        print(f"\n1. named people: one scan for all {len(sources)} "
              f"({wall:.1f} s wall, scan {together['stats']['seconds_scan']:.1f} s) against one "
              f"run each (mean {np.mean(walls):.1f} s wall, scan {np.mean(scans):.1f} s; "
              f"sum {sum(walls):.1f} s wall)")
        print(f"{'person':<8} {'F1 together':>11} {'F1 alone':>8} {'diff':>7} {'alone s':>7} "
              f"{'scan s':>6}")
        for source, both, one, took, scanned in rows:
            print(f"{Path(source).stem:<8} {both:>11.4f} {one:>8.4f} {both - one:>+7.4f} "
                  f"{took:>7.1f} {scanned:>6.1f}")
        print(f"worst |diff| {max(abs(r[1] - r[2]) for r in rows):.4f}; one scan for "
              f"all took {wall / np.mean(walls):.2f}x a one-person run")

    results = workdir / f"found-{options.preset}"
    shutil.rmtree(results, ignore_errors=True)
    found, wall, _ = facecut(*video, "--output", str(results))
    people = json.loads((results / "people.json").read_text())
    majority, purity, worst_purity, complete, worst_complete = grouping_scores(found, montage)
    print(f"\n2. no photo: {len(people['people'])} people found, {len(sources)} true; "
          f"{wall:.1f} s wall; purity {purity:.4f} (worst {worst_purity:.4f}), completeness "
          f"{complete:.4f} (worst {worst_complete:.4f}); unsorted: "
          f"{people['unsorted']['frames_analysed']} analysed frames in "
          f"{len(people['unsorted']['tracks'])} tracks")
    numbers = [str(p["id"]) for p in people["people"]]
    recut, took, log = facecut(*video, *[f"--person={n}" for n in numbers], "--overwrite",
                               "--output", str(results))
    print(f"--person {' '.join(numbers)} rerun: {took:.1f} s, chunks from the scan cache "
          f"{recut['stats']['chunks_from_cache']}, "
          f"{'no frame scanned' if 'no frame scanned' in log else 'SOME FRAMES SCANNED'}; "
          f"clips written {recut['summary']['clips_written']}")
    print(f"{'person':<9} {'is':<8} {'s':>5} {'F1 --person':>11} {'F1 photo':>8} {'diff':>7}")
    for person in recut["people"]:
        source = majority.get(person["name"], "nobody")
        mine = score(of(recut, person["name"]), truth(montage, source)).f1 \
            if source != "nobody" else 0.0
        photo = alone.get(source)
        print(f"{person['name']:<9} {Path(source).stem:<8} {person['seconds_on_screen']:>5.1f} "
              f"{mine:>11.4f} "
              + (f"{photo:>8.4f} {mine - photo:>+7.4f}" if photo is not None else f"{'-':>8}"))

    print(f"\n3. link distance over the same scan (reruns from the cache)")
    print(f"{'link':>6} {'found':>5} {'true':>4} {'purity':>7} {'worst':>7} {'complete':>8} "
          f"{'worst':>7}")
    for link in LINKS:
        sweep = workdir / f"sweep-{options.preset}"
        if not sweep.exists():
            shutil.copytree(results, sweep)
        doc, _, _ = facecut(*video, f"--link-distance={link}", "--overwrite", "--dry-run",
                            "--output", str(sweep))
        _, p, wp, c, wc = grouping_scores(doc, montage)
        print(f"{link:>6.3f} {len(doc['people']):>5} {len(sources):>4} {p:>7.4f} {wp:>7.4f} "
              f"{c:>8.4f} {wc:>7.4f}")

    if not options.skip_scale:
        print("\n4. grouping synthetic tracks (one person per 20 tracks, 4 embeddings each, "
              "128-d, spread 0.15 around each person)")
        print(f"{'tracks':>7} {'people':>6} {'found':>5} {'seconds':>8}")
        rng = np.random.default_rng(7)
        for count in SCALE:
            centres = rng.normal(0, 1, (count // 20, 128))
            centres *= 1.0 / np.linalg.norm(centres, axis=1, keepdims=True)
            samples = [TrackSample(i, centres[i % len(centres)] + rng.normal(0, 0.15 / np.sqrt(128),
                                                                           (4, 128)), 10, 80)
                       for i in range(count)]
            clock = time.perf_counter()
            limits = DiscoverySettings(0.475)
            grouping = group(samples, "euclidean", 0.475, limits.min_frames, limits.min_face)
            print(f"{count:>7} {len(centres):>6} {len(grouping.people):>5} "
                  f"{time.perf_counter() - clock:>8.2f}")


def long_video(workdir: Path) -> None:
    import resource

    import soak

    base = workdir.parent / "720p"
    montage = montage_builder.build(montage_builder.benchmark_parts(), base / "montage.mp4",
                                    1280, 720)
    (workdir.parent / "soak").mkdir(parents=True, exist_ok=True)
    long = soak.concatenated(montage.path, 117, workdir.parent / "soak" / "two_hours.mp4")
    results = workdir / "long"
    shutil.rmtree(results, ignore_errors=True)
    doc, wall, _ = facecut("--video", str(long), "--speed", "--num_processes", "2",
                           "--output", str(results))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    frames = doc["video"]["frame_count"]
    length = montage.frame_count
    faces: dict[str, Counter] = defaultdict(Counter)
    for segment in doc["segments"]:
        for detection in segment["detections"]:
            source = owner(montage, detection["frame"] % length, detection["box"]) or "nobody"
            faces[segment["person"]][source] += 1
    held = sum(sum(c.values()) for c in faces.values())
    purity = sum(c.most_common(1)[0][1] for c in faces.values()) / held if held else 1.0
    by_source: dict[str, Counter] = defaultdict(Counter)
    for person, counts in faces.items():
        for source, count in counts.items():
            by_source[source][person] += count
    complete = {s: max(c.values()) / sum(c.values()) for s, c in by_source.items()
                if s != "nobody"}
    people = json.loads((results / "people.json").read_text())
    print(f"5. no photo, --speed, 2 h: {long} ({frames} frames, 7 people x 117 copies)")
    print(f"wall {wall:.0f} s ({doc['video']['duration'] / wall:.2f}x realtime), scan "
          f"{doc['stats']['seconds_scan']:.0f} s; {doc['stats']['tracks']} joined tracks "
          f"grouped in {doc['stats']['seconds_grouping']:.2f} s; {len(people['people'])} people "
          f"found (7 true); unsorted {people['unsorted']['frames_analysed']} analysed frames "
          f"in {len(people['unsorted']['tracks'])} tracks; peak RSS {peak:.0f} MiB")
    print(f"purity {purity:.4f}; completeness per true person: "
          + ", ".join(f"{Path(s).stem} {c:.4f}" for s, c in sorted(complete.items())))
    for person in people["people"][:12]:
        print(f"  {person['name']}: {person['seconds_on_screen']:.0f} s, "
              f"{person['appearances']} appearances, {len(person['tracks'])} tracks, is "
              f"{dict(faces[person['name']].most_common(2))}")


if __name__ == "__main__":
    main()
