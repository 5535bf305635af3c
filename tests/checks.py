"""Independent measurements of the tool's output: ffprobe, audio cross-correlation,
frame-level scores. Shared by the end-to-end tests and the benchmark."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from montage import ffmpeg


def ffprobe_streams(path: Path) -> list[dict]:
    exe = shutil.which("ffprobe")
    assert exe
    out = subprocess.run([exe, "-v", "error", "-show_streams", "-count_packets", "-of", "json",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["streams"]


def shown_packets(path: Path) -> list[tuple[float, float]]:
    """(start, duration) of each frame of the first video stream that a player shows:
    packets an edit list hides (ffprobe flags them D, for discard) are left out."""
    exe = shutil.which("ffprobe")
    assert exe
    out = subprocess.run([exe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time,duration_time,flags", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.split():
        start, duration, flags = line.split(",")[:3]
        if start != "N/A" and "D" not in flags:
            rows.append((float(start), float(duration) if duration != "N/A" else 0.0))
    return sorted(rows)


def video_frame_count(path: Path) -> int:
    """Frames a player shows (hidden ones left out: a frame-exact copied clip keeps
    the frames from the keyframe before its start, and some after its end, hidden)."""
    return len(shown_packets(path))


def video_duration(path: Path) -> float:
    """End of the last shown video frame minus start of the first, from packet times.
    Where the last packet has no duration (ffprobe: N/A, as in clips copied from the
    variable-rate montage), it lasts as long as the gap before it."""
    rows = shown_packets(path)
    last, duration = rows[-1]
    if duration <= 0 and len(rows) > 1:
        duration = last - rows[-2][0]
    return last + duration - rows[0][0]


def audio_streams(path: Path) -> int:
    return sum(1 for s in ffprobe_streams(path) if s["codec_type"] == "audio")


def pcm(path: Path, start: float | None = None, seconds: float | None = None,
        rate: int = 8000) -> np.ndarray:
    command = [ffmpeg(), "-nostdin", "-v", "error"]
    if start is not None:
        command += ["-ss", f"{start:.6f}"]
    command += ["-i", str(path)]
    if seconds is not None:
        command += ["-t", f"{seconds:.6f}"]
    command += ["-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    data = subprocess.run(command, check=True, capture_output=True).stdout
    return np.frombuffer(data, dtype=np.float32).astype(np.float64)


def audio_offset(clip: Path, source: Path, clip_start: float, rate: int = 8000,
                 probe_seconds: float = 2.0, slack: float = 0.5, clip_from: float = 0.0) -> float:
    """Seconds by which the clip's audio from `clip_from` is late (+) or early (-)
    against the source audio at `clip_start`, by cross-correlation."""
    piece = pcm(clip, start=clip_from if clip_from else None, rate=rate)[: int(probe_seconds * rate)]
    begin = max(0.0, clip_start - slack)
    window = pcm(source, start=begin, seconds=len(piece) / rate + 2 * slack, rate=rate)
    assert len(piece) > rate // 4, "clip has too little audio to measure"
    piece = piece - piece.mean()
    size = 1 << int(np.ceil(np.log2(len(window) + len(piece))))
    correlation = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(piece, size)), size)
    valid = correlation[: len(window) - len(piece) + 1]
    # normalise by the energy of the window under the piece at each lag, so a louder
    # stretch next to the right place cannot win
    energy = np.concatenate(([0.0], np.cumsum(window ** 2)))
    local = energy[len(piece):len(piece) + len(valid)] - energy[:len(valid)]
    lag = int(np.argmax(valid / np.sqrt(np.maximum(local, 1e-12)))) / rate
    return (clip_start - begin) - lag


def gray_frames(path: Path, start: float, count: int, width: int, height: int) -> np.ndarray:
    data = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-ss", f"{start:.6f}", "-i",
                           str(path), "-frames:v", str(count), "-fps_mode", "passthrough",
                           "-f", "rawvideo", "-pix_fmt", "gray", "-"], check=True, capture_output=True).stdout
    frames = np.frombuffer(data, dtype=np.uint8)
    return frames.reshape(-1, height, width).astype(np.float64)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    worst_boundary: int | None  # frames; None when segment counts differ
    segments: int
    truth_segments: int


def predicted_frames(segments: Iterable[dict]) -> set[int]:
    return {f for s in segments for f in range(s["start_frame"], s["end_frame"] + 1)}


def score(segments: Sequence[dict], truth: Sequence[tuple[int, int]]) -> Score:
    predicted = predicted_frames(segments)
    actual = {f for a, b in truth for f in range(a, b + 1)}
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    worst = None
    if len(segments) == len(truth):
        worst = max((max(abs(s["start_frame"] - a), abs(s["end_frame"] - b))
                     for s, (a, b) in zip(segments, truth)), default=0)
    return Score(precision, recall, f1, worst, len(segments), len(truth))


def frame_time(frame_starts: Sequence[Fraction], frame: int) -> float:
    return float(frame_starts[frame])
