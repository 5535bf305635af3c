"""Probing a video with ffprobe (or ffmpeg alone): streams, exact frame times,
keyframes, rotation, audio."""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

from .errors import FFmpegError, VideoError
from .process import last_lines, run_captured, run_command
from .timecode import EvenStarts, FrameClock, parse_rational
from .tools import GLOBAL_OPTIONS, find_tools, input_url

# Container formats ffprobe reports for still images; they are not videos.
_IMAGE_FORMATS = (
    "image2",
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
    "bmp_pipe",
    "tiff_pipe",
    "gif",
    "svg_pipe",
    "pgm_pipe",
    "ppm_pipe",
    "j2k_pipe",
    "qoi_pipe",
)


@dataclass(frozen=True)
class VideoInfo:
    """What the tool needs to know about an input video."""

    path: str
    width: int  # as displayed (rotation applied)
    height: int
    rotation: int  # degrees the player rotates the stored picture, 0/90/180/270
    fps: Fraction  # nominal (average) frame rate
    clock: FrameClock  # exact presentation time of every frame
    audio_streams: int
    start_time: Fraction  # the file's start time; all times are relative to it
    duration: Fraction
    codec: str
    declared_frames: int | None = None  # frames the container's header promises, if known
    keyframes: tuple[Fraction, ...] = ()  # start times of keyframes, sorted
    audio_codecs: tuple[str, ...] = ()

    def keyframe_at_or_before(self, seconds: Fraction) -> Fraction:
        """Where decoding must start to produce the frame at `seconds`. Without a
        keyframe list (ffmpeg-only probing) `seconds` itself: ffmpeg's own seek then
        finds the keyframe, rather than every chunk decoding from the start."""
        if not self.keyframes:
            return seconds
        index = bisect_right(self.keyframes, seconds) - 1
        return self.keyframes[index] if index >= 0 else Fraction(0)

    @property
    def frame_count(self) -> int:
        return self.clock.frame_count

    @property
    def has_audio(self) -> bool:
        return self.audio_streams > 0

    @property
    def variable_frame_rate(self) -> bool:
        starts = self.clock.starts
        if len(starts) < 3 or isinstance(starts, EvenStarts):
            return False
        gaps = {b - a for a, b in pairwise(starts)}
        return max(gaps) - min(gaps) > Fraction(1, 1000)


def _rotation(stream: dict[str, Any]) -> int:
    """The display rotation of a stream, from its display matrix or legacy tag."""
    degrees = 0.0
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            degrees = float(side["rotation"])
            break
    else:
        tag = (stream.get("tags") or {}).get("rotate")
        if tag:
            degrees = -float(tag)  # the tag is clockwise, the matrix counter-clockwise
    return round(-degrees) % 360


def _check_file(path: str) -> None:
    """Raise VideoError if `path` is not a readable, non-empty file."""
    source = Path(path)
    if not source.exists():
        raise VideoError(f"{path}: no such file")
    if source.is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if not os.access(source, os.R_OK):
        raise VideoError(f"{path}: permission denied")
    if source.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")


def probe(path: str) -> VideoInfo:
    """Probe a video: streams, exact frame times, rotation, audio.

    Raises VideoError with a one-line reason for anything that is not a readable video.
    """
    _check_file(path)
    tools = find_tools()
    if tools.ffprobe is None:
        return _probe_with_ffmpeg(path, tools.ffmpeg)
    fmt, stream, audio_streams = _ffprobe_streams(path, tools.ffprobe)
    index = int(stream["index"])
    time_base = parse_rational(stream.get("time_base", "")) or Fraction(1, 90000)
    fps = parse_rational(stream.get("avg_frame_rate", "")) or parse_rational(
        stream.get("r_frame_rate", "")
    )
    start_time = Fraction(fmt.get("start_time") or "0")
    packets = _packet_times(path, tools.ffprobe, index)
    clock = FrameClock.from_ticks(
        packets.starts,
        time_base,
        start_time,
        None if packets.last_duration is None else packets.last_duration * time_base,
        fps,
    )
    keyframes = [tick * time_base - start_time for tick in packets.keyframes]
    discarded = packets.discarded
    if fps is None:
        fps = (
            Fraction(clock.frame_count) / (clock.end - clock.starts[0])
            if clock.frame_count > 1
            else Fraction(25)
        )
        fps = fps.limit_denominator(1001)
    rotation = _rotation(stream)
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise VideoError(f"{path}: the video stream has no picture size")
    if rotation in (90, 270):
        width, height = height, width
    duration = Fraction(fmt["duration"]) if fmt.get("duration") not in (None, "N/A") else clock.end
    return VideoInfo(
        path=os.path.abspath(path),
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        clock=clock,
        audio_streams=len(audio_streams),
        start_time=start_time,
        duration=max(duration, clock.end),
        codec=str(stream.get("codec_name", "?")),
        declared_frames=int(stream["nb_frames"]) - discarded
        if str(stream.get("nb_frames", "")).isdigit()
        else None,
        keyframes=tuple(sorted(keyframes)),
        audio_codecs=tuple(str(a.get("codec_name", "?")) for a in audio_streams),
    )


def _ffprobe_streams(
    path: str, ffprobe: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(format, first video stream, audio streams) from ffprobe's JSON; VideoError
    for a file that is not a video (unreadable, a still image, no video stream)."""
    try:
        text = run_command(
            [
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                input_url(path),
            ],
            "ffprobe",
        )
    except FFmpegError as error:
        raise VideoError(f"{path}: not a readable video ({_strip_prefix(str(error))})") from None
    document = json.loads(text or "{}")
    fmt = document.get("format") or {}
    streams = document.get("streams") or []
    video_streams = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    if any(name in (fmt.get("format_name") or "").split(",") for name in _IMAGE_FORMATS):
        raise VideoError(f"{path}: is a still image, not a video")
    if not video_streams:
        kind = "audio only" if audio_streams else "no video stream"
        raise VideoError(f"{path}: has no video stream ({kind})")
    return fmt, video_streams[0], audio_streams


@dataclass(frozen=True)
class _Packets:
    """The video stream's packets as ffprobe lists them, in its time base's ticks."""

    starts: list[int]  # each shown frame's start, sorted
    keyframes: list[int]
    last_duration: int | None  # the last frame's duration, where known
    discarded: int  # packets the decoder discards (never shown)


def _packet_times(path: str, ffprobe: str, index: int) -> _Packets:
    """The video stream's frame start ticks from ffprobe's packet list. Kept as ints,
    not Fractions, and only the last frame's duration: with a Fraction and a duration
    per frame, probing a 2-hour 30 fps video peaked ~120 MB above the process's
    imports and took 11 s."""
    packets = run_command(
        [
            ffprobe,
            "-v",
            "error",
            "-select_streams",
            str(index),
            "-show_entries",
            "packet=pts,dts,duration,flags",
            "-of",
            "csv=p=0",
            input_url(path),
        ],
        "ffprobe packets",
    )
    starts: list[int] = []
    keyframes: list[int] = []
    last_start: int | None = None
    last_duration: int | None = None
    discarded = 0
    for line in packets.splitlines():
        fields = line.strip().split(",")
        if len(fields) < 4:
            continue
        pts, dts, duration, flags = fields[0], fields[1], fields[2], fields[3]
        if "D" in flags:  # discarded by the decoder (edit list); never shown
            discarded += 1
            continue
        stamp = pts if pts not in ("N/A", "") else dts
        if stamp in ("N/A", ""):
            continue
        start = int(stamp)
        starts.append(start)
        if "K" in flags:
            keyframes.append(start)
        if last_start is None or start > last_start:
            last_start, last_duration = start, None
        if start == last_start and duration not in ("N/A", ""):
            last_duration = int(duration)
    if not starts:
        raise VideoError(f"{path}: the video stream has no frames")
    starts.sort()
    return _Packets(starts, keyframes, last_duration, discarded)


def shown_frame_times(path: str) -> list[Fraction]:
    """When each frame of a file's first video stream is shown, sorted, in seconds of
    its own timeline: the frames an edit list hides are left out. From the packet list
    (ffprobe, ~20 ms for a clip), or where there is no ffprobe by decoding (ffmpeg's
    framemd5 of the decoded frames)."""
    tools = find_tools()
    if tools.ffprobe is None:
        text = run_command(
            [
                tools.ffmpeg,
                *GLOBAL_OPTIONS,
                "-loglevel",
                "error",
                "-i",
                input_url(path),
                "-map",
                "0:v:0",
                "-fps_mode",
                "passthrough",
                "-f",
                "framemd5",
                "-",
            ],
            f"checking {Path(path).name}",
        )
        return sorted(_framemd5_times(text)[0])
    packets = run_command(
        [
            tools.ffprobe,
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time,flags",
            "-of",
            "csv=p=0",
            input_url(path),
        ],
        f"checking {Path(path).name}",
    )
    shown = []
    for line in packets.splitlines():
        fields = line.strip().split(",")
        if len(fields) >= 2 and "D" not in fields[1] and fields[0] not in ("", "N/A"):
            shown.append(Fraction(fields[0]))
    return sorted(shown)


def _strip_prefix(message: str) -> str:
    return message.split(": ", 1)[1] if ": " in message else message


def _probe_with_ffmpeg(path: str, ffmpeg_exe: str) -> VideoInfo:
    """Probe without ffprobe (imageio-ffmpeg ships only ffmpeg).

    Frame times come from `-f framemd5` over the copied video packets (no decoding);
    sizes, rate, rotation and audio from ffmpeg's stream banner.
    """
    finished = run_captured(
        [
            ffmpeg_exe,
            "-hide_banner",
            "-nostdin",
            "-i",
            input_url(path),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-f",
            "framemd5",
            "-",
        ],
        "ffmpeg probe",
    )
    banner = finished.stderr.decode("utf-8", "replace")
    if finished.returncode != 0 and "Stream #" not in banner:
        raise VideoError(f"{path}: not a readable video ({last_lines(banner, 1)})")
    width, height, fps, rotation, audio_count = _banner_streams(path, banner)
    start = re.search(r"start: (-?[\d.]+)", banner)
    start_time = Fraction(start.group(1)) if start else Fraction(0)
    starts, last_duration = _framemd5_times(finished.stdout.decode("utf-8", "replace"))
    if not starts:
        raise VideoError(f"{path}: the video stream has no frames")
    # framemd5 timestamps are already relative to the file's start time, the same
    # origin ffprobe-based probing uses.
    clock = FrameClock.from_timestamps(starts, last_duration, fps)
    return VideoInfo(
        path=os.path.abspath(path),
        width=width,
        height=height,
        rotation=rotation,
        fps=fps or Fraction(25),
        clock=clock,
        audio_streams=audio_count,
        start_time=start_time,
        duration=clock.end,
        codec="?",
    )


def _banner_streams(path: str, banner: str) -> tuple[int, int, Fraction | None, int, int]:
    """(width, height as displayed, frame rate or None, rotation, audio stream count)
    from ffmpeg's description of its input; VideoError for a file that is no video."""
    video_lines = [
        line
        for line in banner.splitlines()
        if re.search(r"Stream #\d+:\d+.*: Video:", line) and "attached pic" not in line
    ]
    audio_count = len(re.findall(r"Stream #\d+:\d+.*: Audio:", banner))
    if re.search(r"Input #0, (image2|png_pipe|jpeg_pipe|webp_pipe|bmp_pipe|tiff_pipe)", banner):
        raise VideoError(f"{path}: is a still image, not a video")
    if not video_lines:
        kind = "audio only" if audio_count else "no video stream"
        raise VideoError(f"{path}: has no video stream ({kind})")
    line = video_lines[0]
    size = re.search(r", (\d{2,5})x(\d{2,5})", line)
    if not size:
        raise VideoError(f"{path}: the video stream has no picture size")
    width, height = int(size.group(1)), int(size.group(2))
    rate = re.search(r", ([\d.]+) fps", line) or re.search(r", ([\d.]+) tbr", line)
    fps = Fraction(rate.group(1)).limit_denominator(1001) if rate else None
    if fps is not None and abs(float(fps) - 29.97) < 0.005:
        fps = Fraction(30000, 1001)
    match = re.search(r"rotation of (-?[\d.]+) degrees", banner)
    rotation = round(-float(match.group(1))) % 360 if match else 0
    if rotation in (90, 270):
        width, height = height, width
    return width, height, fps, rotation, audio_count


def _framemd5_times(text: str) -> tuple[list[Fraction], Fraction | None]:
    """Frame start times, and the last frame's duration if known, from `-f framemd5`."""
    base = re.search(r"#tb 0: (\d+)/(\d+)", text)
    time_base = Fraction(int(base.group(1)), int(base.group(2))) if base else Fraction(1, 90000)
    starts: list[Fraction] = []
    last_duration = None
    for row in text.splitlines():
        if row.startswith("#") or not row.strip():
            continue
        fields = [field.strip() for field in row.split(",")]
        pts, duration = int(fields[2]), int(fields[3])
        starts.append(pts * time_base)
        last_duration = duration * time_base if duration > 0 else None
    return starts, last_duration
