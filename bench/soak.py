#!/usr/bin/env python3
"""Soak: a 300-video batch, a 2-hour video killed and resumed, and parallel shell
loops, checked for lost, wrong or mixed results and for growing memory or open files.

    python bench/soak.py [--workdir bench/out/soak] [--videos 300] [--long-copies 117]
                         [--skip-batch] [--skip-long] [--skip-loops]

1. Batch: `--videos` short labelled videos built from ../shared/media (6 kinds: the
   target alone, beside someone else, twice with a gap, at 25 fps; someone else; no
   one), 5% of them broken in 5 ways (text, empty, audio only, a camera-style mp4 cut
   in half, a photo), spread over 30 folders that reuse the same file names. One run:
   `--json --speed`. Checked: every good video's segments equal its truth to the frame;
   every broken one is an error record and the batch exits 2; every pool worker's RSS
   and open files, sampled every 10 videos (as their JSON lines arrive), end within
   10% of where they started; 10 of the videos, run one at a time, give the batch's
   segments exactly.
2. Long video: the 62 s 720p benchmark montage concatenated (`-c copy`) into 5 minutes
   and into `--long-copies` copies (117: 2 h 0 min 54 s), with `--speed`. Checked: the
   2-hour run's peak RSS against the 5-minute run's (largest single process), its
   segments against the truth; then a second 2-hour run is killed (SIGKILL to its whole
   process group) once half of its chunks are in the scan cache, and run again: it must
   not be blocked by the killed run's lock, must scan at most the unfinished chunks
   plus one, and must give the uninterrupted run's segments.
3. Parallel loops: `xargs -P 4` over 20 videos, the first 4 in different folders under
   one file name, each a separate run into the default Results/. Checked: each
   uniquely named video's results are complete and correct; of the 4 sharing a name,
   one wins and the others are refused with exit 2 (before they scan, naming the
   run that holds the folder, or finding its finished results), and the winner's
   metadata names the winner's video.

Prints one table per part and exits 1 if any check failed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage as montage_builder  # noqa: E402
from measure import measure  # noqa: E402
from montage import TARGET, Part  # noqa: E402
from procfs import pool_workers  # noqa: E402

TOOL = [sys.executable, str(ROOT / "video_inference.py")]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FOLDERS = 30  # the batch's videos are spread over this many folders, names reused
FLAT = 0.10  # "flat": the last sample within 10% of the first
failures: list[str] = []


def check(ok: bool, what: str) -> bool:
    if not ok:
        failures.append(what)
        print(f"FAILED: {what}", flush=True)
    return ok


def segments_of(folder: Path) -> list[tuple[int, int]]:
    doc = json.loads((folder / "metadata.json").read_text())
    return [(s["start_frame"], s["end_frame"]) for s in doc["segments"]]


# ------------------------------------------------------------------ media

# (name, parts): short labelled videos, 480x270, whose truth is known to the frame
KINDS: list[tuple[str, list[Part]]] = [
    ("alone", [Part(("d3.mp4",), 0, 1, 30, False), Part((TARGET,), 0, 3, 30, True)]),
    ("beside", [Part((TARGET, "d14.mp4"), 3, 3, 30, True), Part(("d10.mp4",), 0, 1, 30, False)]),
    ("twice", [Part((TARGET,), 6, 2, 30, True), Part(("d19.mp4",), 0, 2, 30, False),
               Part((TARGET,), 8, 2, 30, True)]),
    ("pal", [Part(("d20.mp4",), 0, 2, 25, False), Part((TARGET,), 10, 2, 25, True)]),
    ("other", [Part(("d18.mp4",), 0, 3, 30, False)]),
    ("empty room", [Part((), 0, 3, 30, False)]),
]


def ffmpeg(*args: str) -> None:
    subprocess.run([montage_builder.ffmpeg(), "-nostdin", "-v", "error", "-y", *args], check=True)


def broken_makers(scratch: Path) -> dict[str, bytes]:
    """Five ways a file named .mp4 is not a usable video: the bytes of each."""
    scratch.mkdir(parents=True, exist_ok=True)
    ffmpeg("-i", str(montage_builder.CLIPS / "d18.mp4"), "-vn", "-c:a", "copy",
           "-f", "mp4", str(scratch / "audio.mp4"))
    ffmpeg("-i", str(montage_builder.CLIPS / "d18.mp4"), "-c", "copy", str(scratch / "camera.mp4"))
    ffmpeg("-ss", "1", "-i", str(montage_builder.CLIPS / "d18.mp4"), "-frames:v", "1",
           str(scratch / "still.jpg"))
    camera = (scratch / "camera.mp4").read_bytes()
    return {
        "text": b"hello, this is not a video\n",
        "empty": b"",
        "audio only": (scratch / "audio.mp4").read_bytes(),
        "cut in half": camera[: len(camera) // 2],  # index written last: nothing decodes
        "photo": (scratch / "still.jpg").read_bytes(),
    }


@dataclass(frozen=True)
class BatchVideo:
    path: Path
    kind: str
    truth: list[tuple[int, int]] | None  # None: broken


def build_batch(workdir: Path, count: int) -> list[BatchVideo]:
    """`count` videos in FOLDERS folders named clip_00.mp4, clip_01.mp4, ... in each
    (so names repeat across folders), 5% broken, placed at random (seed 16)."""
    templates = workdir / "templates"
    built = {name: montage_builder.build(parts, templates / f"{name.replace(' ', '_')}.mp4",
                                         480, 270) for name, parts in KINDS}
    broken = broken_makers(templates / "broken")
    rng = random.Random(16)
    broken_at = set(rng.sample(range(count), max(1, round(count * 0.05))))
    broken_kinds = list(broken)
    root = workdir / "batch"
    shutil.rmtree(root, ignore_errors=True)
    videos = []
    per_folder = -(-count // FOLDERS)
    for index in range(count):
        folder = root / f"folder_{index % FOLDERS:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"clip_{index // FOLDERS:02d}.mp4"
        if index in broken_at:
            kind = broken_kinds[len([b for b in broken_at if b < index]) % len(broken_kinds)]
            path.write_bytes(broken[kind])
            videos.append(BatchVideo(path, kind, None))
        else:
            name, _ = KINDS[index % len(KINDS)]
            os.link(built[name].path, path)
            videos.append(BatchVideo(path, name, built[name].target_segments()))
    assert per_folder * FOLDERS >= count
    return videos


# ------------------------------------------------------------------ 1. batch

def rss_and_fds(pid: int) -> tuple[float, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024, fds


def soak_batch(workdir: Path, count: int, reference: Path) -> None:
    videos = build_batch(workdir, count)
    out = workdir / "batch-results"
    shutil.rmtree(out, ignore_errors=True)
    command = [*TOOL, "--video", *map(str, (v.path for v in videos)), "--reference",
               str(reference), "--json", "--speed", "--output", str(out)]
    print(f"\n1. batch: {len(videos)} videos ({sum(v.truth is None for v in videos)} broken) in "
          f"{FOLDERS} folders; {shlex.join(command[:3])} ... --json --speed", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    samples: list[tuple[int, dict[int, tuple[float, int]], tuple[float, int] | None]] = []
    records = []
    assert process.stdout is not None
    for line in process.stdout:
        records.append(json.loads(line))
        if len(records) % 10 == 0:
            workers = {pid: s for pid in pool_workers(process.pid) if (s := rss_and_fds(pid))}
            samples.append((len(records), workers, rss_and_fds(process.pid)))
    stderr = process.stderr.read() if process.stderr else ""
    code = process.wait()
    wall = time.monotonic() - started

    by_video = {record["video"]: record for record in records}
    wrong = []
    for video in videos:
        record = by_video.get(str(video.path))
        if record is None:
            wrong.append(f"{video.path}: no JSON line")
        elif video.truth is None:
            if record["status"] != "error":
                wrong.append(f"{video.path} ({video.kind}): {record['status']}, not an error")
        elif record["status"] not in ("found", "not_found"):
            wrong.append(f"{video.path} ({video.kind}): {record['status']}: {record.get('error')}")
        elif segments_of(Path(record["output"])) != video.truth:
            wrong.append(f"{video.path} ({video.kind}): {segments_of(Path(record['output']))}"
                         f" against {video.truth}")
    good = [v for v in videos if v.truth is not None]
    broken = [v for v in videos if v.truth is None]
    wrong_good = sum(1 for v in good if any(w.startswith(f"{v.path}:") or
                                           w.startswith(f"{v.path} (") for w in wrong))
    reported = sum(1 for v in broken if by_video.get(str(v.path), {}).get("status") == "error")
    print(f"wall {wall:.0f} s ({wall / len(videos):.2f} s a video), exit {code}; "
          f"{len(records)} JSON lines; good videos correct to the frame: "
          f"{len(good) - wrong_good}/{len(good)}; broken reported as errors: "
          f"{reported}/{len(broken)}; tracebacks on stderr: {stderr.count('Traceback')}")
    for problem in wrong[:10]:
        print(f"  {problem}")
    check(code == 2, f"batch exit code {code}, expected 2 (some videos broken)")
    check(not wrong, f"{len(wrong)} videos with a wrong result")
    check("Traceback" not in stderr, "a traceback on the batch's stderr")
    print_samples(samples)
    compare_with_single_runs(videos, by_video, reference, workdir)


def print_samples(samples: list) -> None:
    if not samples:
        check(False, "no worker samples")
        return
    pids = sorted({pid for _, workers, _ in samples for pid in workers})
    print("\nworkers sampled every 10 videos (RSS MiB / open files)")
    header = f"{'videos':>6} " + " ".join(f"{'worker ' + str(pid):>16}" for pid in pids) \
        + f" {'parent':>16}"
    print(header)
    print("-" * len(header))
    for done, workers, parent in samples:
        cells = [f"{workers[pid][0]:>9.0f} / {workers[pid][1]:>4}" if pid in workers
                 else f"{'-':>16}" for pid in pids]
        parent_cell = f"{parent[0]:>9.0f} / {parent[1]:>4}" if parent else f"{'-':>16}"
        print(f"{done:>6} " + " ".join(cells) + f" {parent_cell}")
    for pid in pids:
        seen = [workers[pid] for _, workers, _ in samples if pid in workers]
        first, last = seen[0], seen[-1]
        print(f"worker {pid}: {len(seen)} samples, RSS {first[0]:.0f} -> {last[0]:.0f} MiB "
              f"({(last[0] - first[0]) / first[0]:+.1%}), open files {first[1]} -> {last[1]}")
        check(len(seen) == len(samples), f"worker {pid} was not there for every sample "
              "(the pool was restarted)")
        check(last[0] <= first[0] * (1 + FLAT), f"worker {pid} RSS grew more than 10%")
        check(last[1] <= first[1] * (1 + FLAT), f"worker {pid} open files grew more than 10%")
    # The parent (not a worker: the criterion is per worker) warms up: +22 MiB
    # over the first ~70 videos of the 300-video batch, then +1 MiB over the next 220.
    # Its Python objects stay flat (tracemalloc: 43.58 -> 43.64 MiB from video 5 to
    # 30), so that is native memory settling (and not malloc arenas: MALLOC_ARENA_MAX=1
    # still grew 109 -> 126 MiB over 80 videos). Its growth is judged from the 100th
    # video on; its open files vary with the pipes of the decoders and cutters in flight.
    parents = [(done, parent) for done, _, parent in samples if parent]
    if parents:
        settled = next(((done, p) for done, p in parents if done >= 100), parents[0])
        last = parents[-1][1]
        print(f"parent: RSS {parents[0][1][0]:.0f} -> {last[0]:.0f} MiB "
              f"({(last[0] - parents[0][1][0]) / parents[0][1][0]:+.1%}); from video "
              f"{settled[0]}: {settled[1][0]:.0f} -> {last[0]:.0f} MiB "
              f"({(last[0] - settled[1][0]) / settled[1][0]:+.1%}); open files "
              f"{min(p[1] for _, p in parents)}-{max(p[1] for _, p in parents)}")
        check(last[0] <= settled[1][0] * (1 + FLAT),
              f"the parent's RSS grew more than 10% after video {settled[0]}")


def compare_with_single_runs(videos: list[BatchVideo], by_video: dict, reference: Path,
                             workdir: Path) -> None:
    good = [v for v in videos if v.truth is not None]
    sample = good[:: max(1, len(good) // 10)][:10]
    same = 0
    for number, video in enumerate(sample):
        out = workdir / "single" / str(number)
        shutil.rmtree(out, ignore_errors=True)
        run = subprocess.run([*TOOL, "--video", str(video.path), "--reference", str(reference),
                              "--speed", "--quiet", "--output", str(out)],
                             capture_output=True, text=True, env=ENV)
        batch_doc = json.loads((Path(by_video[str(video.path)]["output"])
                                / "metadata.json").read_text())
        single_doc = json.loads((out / "metadata.json").read_text()) if run.returncode < 2 else {}
        if check(batch_doc["segments"] == single_doc.get("segments"),
                 f"{video.path}: the batch's segments differ from a single run's"):
            same += 1
    print(f"single runs of {len(sample)} of the videos: {same}/{len(sample)} give the batch's "
          "segments exactly (frames, times, boxes, distances)")


# ------------------------------------------------------------------ 2. long video

def concatenated(source: Path, copies: int, out: Path) -> Path:
    if out.exists():
        return out
    listing = out.with_suffix(".txt")
    listing.write_text(f"file '{source.resolve()}'\n" * copies)
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out))
    return out


def finished_chunks(out: Path) -> int:
    return len(list(out.glob(".facecut-cache/*/chunk-*.json")))


def soak_long(workdir: Path, copies: int) -> None:
    base = workdir.parent / "720p"
    montage = montage_builder.build(montage_builder.benchmark_parts(), base / "montage.mp4",
                                    1280, 720)
    reference = montage_builder.reference_photo(base / "reference.png")
    five = concatenated(montage.path, 5, workdir / "five_minutes.mp4")
    long = concatenated(montage.path, copies, workdir / "two_hours.mp4")
    per_copy = montage.frame_count
    truth = [(a + k * per_copy, b + k * per_copy)
             for k in range(copies) for a, b in montage.target_segments()]
    print(f"\n2. long video: {long} ({copies} x the 62 s 720p montage, "
          f"{copies * per_copy} frames), --speed", flush=True)
    rows = []
    for label, video, name in (("5 min", five, "five"), ("2 h", long, "long")):
        out = workdir / f"long-{name}"
        shutil.rmtree(out, ignore_errors=True)
        started = time.monotonic()
        result = measure([*TOOL, "--video", str(video), "--reference", str(reference), "--speed",
                          "--quiet", "--output", str(out)], env=ENV)
        wall = time.monotonic() - started
        doc = json.loads((out / "metadata.json").read_text())
        rows.append((label, doc["video"]["frame_count"], wall,
                     doc["video"]["duration"] / wall, result.peak_mib, result.process.returncode,
                     len(doc["segments"])))
    print(f"{'video':<6} {'frames':>7} {'wall s':>7} {'x realtime':>10} {'peak RSS MiB':>12} "
          f"{'exit':>4} {'segments':>8}")
    for label, frames, wall, realtime, peak, code, count in rows:
        print(f"{label:<6} {frames:>7} {wall:>7.0f} {realtime:>10.2f} {peak:>12.0f} {code:>4} "
              f"{count:>8}")
    growth = rows[1][4] / rows[0][4] - 1
    print(f"peak RSS, 2 h against 5 min: {growth:+.1%}")
    check(growth <= FLAT, "the 2-hour run's peak RSS is more than 10% above the 5-minute run's")
    uninterrupted = segments_of(workdir / "long-long")
    check(uninterrupted == truth,
          f"2-hour segments differ from the truth ({len(uninterrupted)} against {len(truth)})")
    check(segments_of(workdir / "long-five") == truth[: 5 * len(montage.target_segments())],
          "5-minute segments differ from the truth")
    kill_and_resume(long, reference, workdir / "long-killed", uninterrupted)


def kill_and_resume(video: Path, reference: Path, out: Path,
                    uninterrupted: list[tuple[int, int]]) -> None:
    shutil.rmtree(out, ignore_errors=True)
    command = [*TOOL, "--video", str(video), "--reference", str(reference), "--speed", "--quiet",
               "--output", str(out)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=ENV, start_new_session=True)
    planned = None
    while process.poll() is None:
        plans = list(out.glob(".facecut-cache/*/plan.json"))
        if plans and planned is None:
            planned = len(json.loads(plans[0].read_text())["chunks"])
        if planned and finished_chunks(out) >= planned // 2:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.5)
    process.wait()
    killed_after = time.monotonic() - started
    time.sleep(1)  # the group's processes are gone
    finished = finished_chunks(out)
    print(f"killed (SIGKILL to the process group) after {killed_after:.0f} s: {finished} of "
          f"{planned} chunks finished, lock file left: {(out / '.facecut-lock').exists()}")
    started = time.monotonic()
    rerun = subprocess.run(command, capture_output=True, text=True, env=ENV)
    wall = time.monotonic() - started
    doc = json.loads((out / "metadata.json").read_text()) if rerun.returncode < 2 else None
    if not check(doc is not None, f"the rerun failed: {rerun.stderr.strip()[-500:]}"):
        return
    assert doc is not None and planned is not None
    from_cache = doc["stats"]["chunks_from_cache"]
    scanned = doc["stats"]["workers"] - from_cache
    print(f"rerun: exit {rerun.returncode}, {wall:.0f} s, {from_cache} chunks from the cache, "
          f"{scanned} scanned (unfinished at the kill: {planned - finished}); segments equal "
          f"the uninterrupted run's: {segments_of(out) == uninterrupted}")
    check(scanned <= planned - finished + 1, "the rerun scanned more than the unfinished "
          "chunks plus one")
    check(segments_of(out) == uninterrupted, "the resumed run's segments differ")


# ------------------------------------------------------------------ 3. parallel loops

LOOP_SCRIPT = """
start=$(date +%s.%N)
"$@" >"$LOGS/$INDEX.out" 2>"$LOGS/$INDEX.err"
echo $? "$start" "$(date +%s.%N)" >"$LOGS/$INDEX.rc"
"""


def soak_loops(workdir: Path, reference: Path) -> None:
    root = workdir / "loops"
    shutil.rmtree(root, ignore_errors=True)
    templates = {name: montage_builder.build(parts, workdir / "templates"
                                             / f"{name.replace(' ', '_')}.mp4", 480, 270)
                 for name, parts in KINDS}
    inputs: list[tuple[Path, str]] = []
    for k in range(4):  # first, so that -P 4 starts them together
        name, _ = KINDS[k]
        path = root / "in" / f"camera_{k}" / "interview.mp4"
        path.parent.mkdir(parents=True)
        os.link(templates[name].path, path)
        inputs.append((path, name))
    for k in range(16):
        name, _ = KINDS[k % len(KINDS)]
        path = root / "in" / f"take_{k:02d}.mp4"
        os.link(templates[name].path, path)
        inputs.append((path, name))
    logs = root / "logs"
    logs.mkdir()
    work = root / "cwd"
    work.mkdir()
    lines = "".join(f"{index}\0{path}\0" for index, (path, _) in enumerate(inputs))
    xargs = ["xargs", "-0", "-P", "4", "-n", "2", "sh", "-c",
             f'INDEX=$1; shift; LOGS={shlex.quote(str(logs))}; export INDEX LOGS; '
             f'sh -c {shlex.quote(LOOP_SCRIPT)} sh {shlex.join(TOOL)} --video "$1" --reference '
             f'{shlex.quote(str(reference))} --json --speed', "sh"]
    print(f"\n3. parallel loops: xargs -P 4 over {len(inputs)} videos (4 named interview.mp4), "
          "each into the default Results/", flush=True)
    started = time.monotonic()
    subprocess.run(xargs, input=lines, text=True, cwd=work, env=ENV, check=True)
    wall = time.monotonic() - started
    runs = []
    for index, (path, kind) in enumerate(inputs):
        code, begun, ended = (logs / f"{index}.rc").read_text().split()
        runs.append((path, kind, int(code), float(ended) - float(begun),
                     (logs / f"{index}.out").read_text(), (logs / f"{index}.err").read_text()))
    print(f"wall {wall:.0f} s")
    print(f"{'video':<28} {'kind':<11} {'exit':>4} {'wall s':>6}  outcome")
    for path, kind, code, seconds, out, err in runs:
        outcome = json.loads(out.splitlines()[-1])["status"] if out.strip() else "-"
        if code == 2:
            outcome = err.strip().splitlines()[-1][:90]
        print(f"{str(path.relative_to(root / 'in')):<28} {kind:<11} {code:>4} {seconds:>6.1f}"
              f"  {outcome}")
    results = work / "Results"
    for path, kind, code, _, _, err in runs[4:]:
        truth = templates[kind].target_segments()
        check(code == (0 if truth else 1), f"{path}: exit {code}: {err.strip()[-300:]}")
        folder = results / path.stem
        check(folder.is_dir() and segments_of(folder) == truth, f"{path}: wrong results")
    winners = [run for run in runs[:4] if run[2] in (0, 1)]
    refused = [run for run in runs[:4] if run[2] == 2]
    check(len(winners) == 1 and len(refused) == 3,
          f"of the 4 sharing a name, {len(winners)} finished and {len(refused)} were refused")
    if winners:
        doc = json.loads((results / "interview" / "metadata.json").read_text())
        check(doc["video"]["path"] == str(winners[0][0]),
              f"Results/interview holds {doc['video']['path']}, not the winner's video")
        check(segments_of(results / "interview") == templates[winners[0][1]].target_segments(),
              "Results/interview's segments are not the winner's")
        slowest_refusal = max((run[3] for run in refused), default=0.0)
        print(f"the 4 sharing a name: {winners[0][0].parent.name} won ({winners[0][3]:.1f} s); "
              f"{len(refused)} refused, the slowest after {slowest_refusal:.1f} s")
    for path, _, _, _, _, err in refused:
        check("another facecut run is writing results here" in err or "already" in err,
              f"{path}: refused without saying why: {err.strip()[-300:]}")
    leftovers = [p for p in results.rglob(".facecut-partial-*")]
    check(not leftovers, f"staging folders left: {leftovers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "soak"))
    parser.add_argument("--videos", type=int, default=300)
    parser.add_argument("--long-copies", type=int, default=117,
                        help="copies of the 62 s montage in the long video (117: 2 h 0 min 54 s)")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--skip-loops", action="store_true")
    options = parser.parse_args()
    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    reference = montage_builder.reference_photo(workdir / "reference.png")
    print(f"soak, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs", flush=True)
    if not options.skip_loops:
        soak_loops(workdir, reference)
    if not options.skip_batch:
        soak_batch(workdir, options.videos, reference)
    if not options.skip_long:
        soak_long(workdir, options.long_copies)
    print(f"\n{len(failures)} check(s) failed" if failures else "\nevery check passed")
    for failure in failures:
        print(f"  {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
