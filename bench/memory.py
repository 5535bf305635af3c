#!/usr/bin/env python3
"""Peak memory against video length: frames are streamed, never accumulated, so a
5-minute video should peak within ~10% of a 30-second one.

    python bench/memory.py [--workdir bench/out] [--args "--speed"]

Builds two 480x480 30 fps videos from ../shared/media (an empty room, then the
target for 3 s) of 30 s and 5 min, runs the tool on each, prints peak RSS (largest
single process: parent, worker or ffmpeg) and wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage as montage_builder  # noqa: E402
from measure import peak_rss_mib  # noqa: E402

def make_video(path: Path, seconds: int) -> None:
    room = seconds - 3
    subprocess.run([
        montage_builder.ffmpeg(), "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=0x404040:s=480x480:r=30:d={room}",
        "-f", "lavfi", "-i", f"anoisesrc=d={room}:c=pink:r=44100:a=0.02",
        "-ss", "10", "-t", "3", "-i", str(montage_builder.CLIPS / montage_builder.TARGET),
        "-filter_complex",
        "[2:v]fps=30,scale=480:480,setsar=1[t];[0:v][1:a][t][2:a]concat=n=2:v=1:a=1[v][a]",
        "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--args", default="--speed --interval 10",
                        help="extra tool arguments (default: %(default)s)")
    options = parser.parse_args()
    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    reference = montage_builder.reference_photo(workdir / "reference.png")
    print(f"tool arguments: {options.args}")
    print(f"{'video':<8} {'frames':>7} {'analysed':>8} {'wall s':>7} {'peak RSS MiB':>12}")
    for label, seconds in (("30 s", 30), ("5 min", 300)):
        video = workdir / f"memory_{seconds}s.mp4"
        if not video.exists():
            make_video(video, seconds)
        out = workdir / f"memory_{seconds}s"
        command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(video),
                   "--reference", str(reference), "--output", str(out), "--overwrite", "--no-cache",
                   "--quiet", *shlex.split(options.args)]
        started = time.monotonic()
        process, peak = peak_rss_mib(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.monotonic() - started
        if process.returncode not in (0, 1):
            raise SystemExit(process.stderr)
        doc = json.loads((out / "metadata.json").read_text())
        print(f"{label:<8} {doc['video']['frame_count']:>7} {doc['stats']['frames_analysed']:>8} "
              f"{wall:>7.1f} {peak:>12.0f}")


if __name__ == "__main__":
    main()
