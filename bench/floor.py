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
import resource
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import montage as montage_builder  # noqa: E402
from facecut.media import SEEK_MARGIN, ClipJob, clip_command, find_tools, probe  # noqa: E402
from facecut.presets import SPEED  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, command: list[str], **kwargs: object) -> float:
    before, started = children_cpu(), time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   **kwargs)  # type: ignore[call-overload]
    cpu = children_cpu() - before
    print(f"  {label:58s} CPU {cpu:5.2f} s   wall {time.monotonic() - started:5.2f} s",
          flush=True)
    return cpu


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

    total = measure("decode every frame once (ffmpeg, one thread)",
                    [find_tools().ffmpeg, "-v", "error", "-threads", "1", "-i",
                     str(montage.path), "-f", "null", "-"])
    for segment in segments:
        start = video.clock.start_of(segment["start_frame"])
        job = ClipJob(source=video.path, destination=str(workdir / f"floor_{segment['index']}.mp4"),
                      start=start, duration=video.clock.end_of(segment["end_frame"]) - start,
                      copy=False, has_audio=video.has_audio, threads=1,
                      decode_from=max(Fraction(0),
                                      video.keyframe_at_or_before(start) - SEEK_MARGIN),
                      encoding=SPEED.clip_encoding)
        total += measure(f"cut clip {segment['index']} ({segment['duration']} s, x264 "
                         f"{SPEED.clip_encoding})", clip_command(job, find_tools().ffmpeg))
    total += measure("main process: interpreter and imports (no models)",
                     [sys.executable, "-c", "import facecut.cli, facecut.pipeline, facecut.scan"],
                     env=env)
    single = {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    total += measure("one worker: interpreter, imports, models loaded",
                     [sys.executable, "-c",
                      "import numpy as np; from facecut.pipeline import engine_settings; "
                      "from facecut.presets import SPEED; from facecut.scan import load_worker; "
                      "load_worker(engine_settings('Dlib', SPEED.detector, SPEED), np.zeros((1, 0)))"],
                     env=single)
    cpus = len(os.sched_getaffinity(0))
    print(f"floor: {total:.1f} CPU-s = {total / cpus:.1f} s wall on {cpus} CPUs at best "
          f"({duration / (total / cpus):.1f}x realtime at most, before any face is looked at)")


if __name__ == "__main__":
    main()
