"""Cutting clips out of the input video with ffmpeg: one job per appearance, its
command built in ffmpeg-python's graph, several cut at once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg  # ffmpeg-python

from . import testing
from .config import Config
from .decode import SEEK_MARGIN
from .errors import FacecutError, Interrupted
from .metadata import ClipOutcome
from .probe import VideoInfo
from .process import children, cpu_count, run_command
from .segments import Segment, clip_frames
from .timecode import seconds_arg
from .tools import GLOBAL_OPTIONS, find_tools, input_url

# Audio codecs an mp4 clip can carry as they are (--copy copies them; others are
# re-encoded to AAC).
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}


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
    options: dict[str, object] = {
        "t": seconds_arg(job.duration),
        "map_metadata": 0,
        "fps_mode": "passthrough",
        "format": "mp4",
    }
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
        options.update(
            {
                "vcodec": "libx264",
                "preset": job.encoding,
                "crf": 18,
                "pix_fmt": "yuv420p",
                "movflags": "+faststart",
            }
        )
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
    args: list[str] = (
        ffmpeg.output(*streams, input_url(job.destination), **options)
        .global_args(*GLOBAL_OPTIONS, "-loglevel", "error")
        .overwrite_output()
        .compile(cmd=ffmpeg_exe)
    )
    return args


def cut_clip(job: ClipJob) -> None:
    """Cut one clip; raise FFmpegError naming the clip on failure."""
    run_command(clip_command(job, find_tools().ffmpeg), f"cutting {Path(job.destination).name}")


# ffmpeg cuts running at once in this process, over every video being finished
# (with --backend ray, several videos finish on driver threads at the same time).
_CUT_SLOTS = threading.BoundedSemaphore(cpu_count())


def clip_jobs(
    video: VideoInfo, segments: Sequence[Segment], config: Config, staging: Path
) -> list[ClipJob]:
    """One ffmpeg job per segment's clip, as cut_clips runs them (up to
    `config.processes` at once, the CPUs shared among them)."""
    parallel = max(1, min(config.processes, len(segments)))
    threads = max(1, cpu_count() // parallel)
    jobs = []
    for index, segment in enumerate(segments, start=1):
        first, last = clip_frames(segment, video.clock, config.cut.padding)
        start = video.clock.start_of(first)
        jobs.append(
            ClipJob(
                source=testing.clip_source(video.path, index),
                decode_from=max(Fraction(0), video.keyframe_at_or_before(start) - SEEK_MARGIN),
                copy_audio=all(codec in MP4_AUDIO for codec in video.audio_codecs),
                destination=str(staging / f"clip_{index}.mp4"),
                start=start,
                duration=video.clock.end_of(last) - start,
                copy=config.cut.mode == "copy",
                has_audio=video.has_audio,
                threads=threads,
                encoding=config.cut.encoding,
                even_size=video.width % 2 == 0 and video.height % 2 == 0,
            )
        )
    return jobs


def cut_clips(
    video: VideoInfo, segments: Sequence[Segment], config: Config, staging: Path
) -> list[ClipOutcome]:
    """Cut every segment's clip, several at once; a failed clip is recorded and the
    others still get cut."""
    if not segments:
        return []
    jobs = clip_jobs(video, segments, config, staging)

    def cut_one(job: ClipJob) -> ClipOutcome:
        name = Path(job.destination).name
        try:
            with _CUT_SLOTS:
                cut_clip(job)
        except Interrupted:
            raise
        except FacecutError as error:
            Path(job.destination).unlink(missing_ok=True)
            return ClipOutcome(None, str(error))
        return ClipOutcome(name)

    with ThreadPoolExecutor(max_workers=max(1, min(config.processes, len(jobs)))) as executor:
        futures = [executor.submit(cut_one, job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException as error:
            for future in futures:  # this video's queued cuts
                future.cancel()
            if isinstance(error, Interrupted):
                # end running ffmpeg children now, so the executor's shutdown does not
                # wait for them; a bug in one cut leaves other videos' cuts running
                children.kill_all()
            raise
