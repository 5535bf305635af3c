"""Cutting clips out of the input video with ffmpeg."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg  # ffmpeg-python

from .process import run_command
from .timecode import seconds_arg
from .tools import GLOBAL_OPTIONS, find_tools, input_url


@dataclass(frozen=True)
class ClipJob:
    """One clip to cut: source times, destination file, and how to cut."""

    source: str
    destination: str
    start: Fraction  # seconds from the file start, on a frame start
    duration: Fraction
    copy: bool
    has_audio: bool
    threads: int = 0
    even_size: bool = True
    # Where decoding starts: before the keyframe that precedes `start`. Decoding from
    # there and trimming on the output side is exact even where the demuxer's own
    # seek is not (MPEG-TS/PS have no index and land on the next keyframe).
    decode_from: Fraction | None = None
    copy_audio: bool = True  # False: re-encode audio in copy mode (PCM etc. in mp4)
    encoding: str = "veryfast"  # x264 preset of accurate mode


def clip_command(job: ClipJob, ffmpeg_exe: str) -> list[str]:
    """The ffmpeg arguments that cut one clip.

    Accurate mode seeks on the input and re-encodes, so the clip starts exactly on
    the segment's first frame and audio is cut at the same instant. Copy mode copies
    packets: it starts on the keyframe at or before the start.
    """
    options: dict[str, object] = {"t": seconds_arg(job.duration),
                                  "map_metadata": 0, "fps_mode": "passthrough",
                                  "format": "mp4"}
    if job.copy:
        source = ffmpeg.input(input_url(job.source), ss=seconds_arg(job.start))
        options.update({"c": "copy", "avoid_negative_ts": "make_zero"})
        if job.has_audio and not job.copy_audio:
            options.update({"c:a": "aac", "b:a": "192k"})
    else:
        decode_from = min(job.start if job.decode_from is None else job.decode_from, job.start)
        # -ss on the input rounds down to the microsecond; the output -ss trims the rest
        seek = Fraction(seconds_arg(decode_from)) if decode_from > 0 else Fraction(0)
        source = ffmpeg.input(input_url(job.source), **({"ss": seconds_arg(seek)} if seek else {}))
        if job.start > seek:
            options["ss"] = seconds_arg(job.start - seek)
        options.update({"vcodec": "libx264", "preset": job.encoding, "crf": 18,
                        "pix_fmt": "yuv420p", "movflags": "+faststart"})
        if job.has_audio:
            options.update({"acodec": "aac", "b:a": "192k"})
        if job.threads:
            options["threads"] = job.threads
    video = source["v:0"]
    if not job.copy and not job.even_size:
        # yuv420p needs even sizes; crop one pixel rather than rescale.
        video = video.filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
    streams = [video]
    if job.has_audio:
        # "a?": every audio stream, and no error where there is none
        streams.append(source["a?"])
    return (ffmpeg.output(*streams, input_url(job.destination), **options)
            .global_args(*GLOBAL_OPTIONS, "-loglevel", "error")
            .overwrite_output()
            .compile(cmd=ffmpeg_exe))


def cut_clip(job: ClipJob) -> None:
    """Cut one clip; raise FFmpegError naming the clip on failure."""
    run_command(clip_command(job, find_tools().ffmpeg), f"cutting {Path(job.destination).name}")
