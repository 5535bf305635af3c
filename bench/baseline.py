#!/usr/bin/env python3
"""The original script's method, kept only as the benchmark's baseline.

    python bench/baseline.py --video V --reference R [--interval N] [--processes P] --out F

For every Nth frame: seek to it, read it, and call DeepFace.verify(frame, reference_path)
(which detects and embeds the reference again on every call), with the frames split into
contiguous chunks over a multiprocessing Pool. Matched frames are grouped into segments
the way the original did: consecutive analysed frames that matched form one segment, and
an analysed frame that did not match ends it. Same recognizer and detector as the
tool's default (Dlib, dlib), with DeepFace.verify's own metric and threshold, so the
comparison is about the method. Writes {"segments": [...], "frames_analysed",
"seconds_scan", ...} to --out.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _verify_chunk(job: tuple[str, str, int, int, int]) -> list[tuple[int, bool]]:
    video, reference, start, stop, interval = job
    import cv2
    from deepface import DeepFace

    capture = cv2.VideoCapture(video)
    results: list[tuple[int, bool]] = []
    for index in range(start, stop, interval):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        if not ok:
            continue
        outcome = DeepFace.verify(frame, reference, model_name="Dlib", detector_backend="dlib",
                                  enforce_detection=False)
        results.append((index, bool(outcome["verified"])))
    capture.release()
    return results


def group(analysed: list[tuple[int, bool]]) -> list[tuple[int, int]]:
    """Runs of consecutive matched analysed frames, as inclusive (first, last) frames."""
    segments: list[tuple[int, int]] = []
    current: list[int] = []
    for index, matched in sorted(analysed):
        if matched:
            current.append(index)
        elif current:
            segments.append((current[0], current[-1]))
            current = []
    if current:
        segments.append((current[0], current[-1]))
    return segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--interval", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    # The tool's own offline weights folder (it installs dlib's weights there).
    from facecut.faces import deepface_home, install_shipped_weights

    deepface_home()
    install_shipped_weights()
    import cv2

    capture = cv2.VideoCapture(args.video)
    frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    samples = list(range(0, frame_count, args.interval))
    per = -(-len(samples) // args.processes)
    jobs = [(args.video, args.reference, samples[i], samples[min(i + per, len(samples)) - 1] + 1,
             args.interval) for i in range(0, len(samples), per)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        analysed = [pair for chunk in pool.map(_verify_chunk, jobs) for pair in chunk]
    seconds = time.monotonic() - started
    segments = [{"start_frame": a, "end_frame": b} for a, b in group(analysed)]
    Path(args.out).write_text(json.dumps({
        "segments": segments, "frames_analysed": len(analysed), "seconds_scan": seconds,
        "frames_matched": sum(1 for _, matched in analysed if matched),
        "interval": args.interval, "frame_count": frame_count}))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
