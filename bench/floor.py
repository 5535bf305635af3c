#!/usr/bin/env python3
"""What a --speed run on the 720p benchmark montage cannot avoid, in CPU seconds.

    python bench/floor.py [--workdir bench/out]

Runs the tool once with --speed (to learn the appearances), then measures, one at a
time: decoding every frame once (ffmpeg, one thread: H.264 frames depend on earlier
ones, so a scan's decoders decode them all whatever they keep), cutting each clip
exactly as --speed does (the same ffmpeg command), starting the main process, and
starting one worker with its models. Their sum is a floor under any --speed run's CPU
time; divided by the CPU count it is a floor under its wall time, before a single face
is detected or embedded.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import montage as montage_builder  # noqa: E402
from measure import measure  # noqa: E402

from facecut.cli import build_config, build_parser  # noqa: E402
from facecut.config import ReferenceSet  # noqa: E402
from facecut.cut import COPY_EXACT, REENCODE, clip_command, clip_jobs  # noqa: E402
from facecut.probe import probe  # noqa: E402
from facecut.segments import Segment  # noqa: E402
from facecut.tools import find_tools  # noqa: E402


def cpu_of(label: str, command: list[str], **kwargs: object) -> float:
    """Run `command`; print and return the CPU seconds it and its children used."""
    started = time.monotonic()
    measured = measure(command, **kwargs)
    if measured.process.returncode != 0:
        raise SystemExit(f"{label}: exit {measured.process.returncode}: "
                         f"{measured.process.stderr.strip()[-2000:]}")
    print(f"  {label:58s} CPU {measured.cpu_seconds:5.2f} s   "
          f"wall {time.monotonic() - started:5.2f} s", flush=True)
    return measured.cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args()
    workdir = Path(args.workdir) / "720p"
    workdir.mkdir(parents=True, exist_ok=True)
    montage = montage_builder.build(montage_builder.benchmark_parts(), workdir / "montage.mp4",
                                    1280, 720)
    reference = montage_builder.reference_photo(workdir / "reference.png")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = workdir / "results-floor"
    subprocess.run([sys.executable, str(ROOT / "video_inference.py"), "--video",
                    str(montage.path), "--reference", str(reference), "--speed", "--output",
                    str(out), "--overwrite", "--quiet", "--no-cache"], check=False, env=env,
                   stdout=subprocess.DEVNULL)
    segments = json.loads((out / "metadata.json").read_text())["segments"]
    video = probe(str(montage.path))
    duration = float(video.duration)
    print(f"montage {montage.path}: {duration:.1f} s; {len(segments)} appearance(s)")

    total = cpu_of("decode every frame once (ffmpeg, one thread)",
                   [find_tools().ffmpeg, "-v", "error", "-threads", "1", "-i",
                    str(montage.path), "-f", "null", "-"])
    # the clips' ffmpeg commands exactly as a --speed run builds them (2 processes)
    config = build_config(build_parser().parse_args(
        ["--video", str(montage.path), "--reference", str(reference), "--speed",
         "--num_processes", "2"]), [ReferenceSet("reference", (str(reference),))])
    staging = workdir / "floor-clips"
    staging.mkdir(exist_ok=True)
    jobs = clip_jobs(video, [Segment(s["start_frame"], s["end_frame"]) for s in segments],
                     config, staging)
    for segment, job in zip(segments, jobs):
        # as the run cuts it: a stream copy by default (its edit-list fix and packet
        # check are a few ms in-process), x264 where the codec or --clips asks for it
        method = COPY_EXACT if job.mode == "exact" and job.copy_video else REENCODE
        how = "stream copy" if method == COPY_EXACT else f"x264 {job.encoding}"
        total += cpu_of(f"cut clip {segment['index']} ({segment['duration']} s, {how})",
                        clip_command(job, find_tools().ffmpeg, method))
    total += cpu_of("main process: interpreter and imports (no models)",
                    [sys.executable, "-c", "import facecut.cli, facecut.pipeline, facecut.scan"],
                    env=env)
    single = {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    total += cpu_of("one worker: interpreter, imports, models loaded",
                    [sys.executable, "-c",
                     "from facecut.cli import build_config, build_parser; "
                     "from facecut.config import ReferenceSet; "
                     "from facecut.embeddings import NO_GALLERY; "
                     "from facecut.scan import load_worker; "
                     "config = build_config(build_parser().parse_args(['--video', 'v', "
                     "'--reference', 'r', '--speed']), [ReferenceSet('r', ('r',))]); "
                     "load_worker(config.scan, NO_GALLERY)"],
                    env=single)
    cpus = len(os.sched_getaffinity(0))
    print(f"floor: {total:.1f} CPU-s = {total / cpus:.1f} s wall on {cpus} CPUs at best "
          f"({duration / (total / cpus):.1f}x realtime at most, before any face is looked at)")


if __name__ == "__main__":
    main()
