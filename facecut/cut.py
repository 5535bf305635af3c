"""Cutting clips out of the input video with ffmpeg: one job per appearance, its
command built in ffmpeg-python's graph, several cut at once."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python

from . import mp4, testing
from .config import ClipMode, Config
from .decode import SEEK_MARGIN
from .errors import FacecutError, Interrupted
from .metadata import ClipOutcome, SupercutOutcome
from .probe import VideoInfo, shown_frame_times
from .process import children, cpu_count, run_command
from .segments import Segment, clip_frames
from .timecode import seconds_arg
from .tools import GLOBAL_OPTIONS, find_tools, input_url

log = logging.getLogger(__name__)

# Audio codecs an mp4 clip can carry as they are (copied; others are re-encoded to AAC).
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})
# Video codecs an exact clip copies into mp4: a clip of any other codec (MPEG-2,
# ProRes, ...) is re-encoded, and says so in metadata. Not AV1: mp4 carries it, but
# ffmpeg 5.1's default AV1 decoder (libdav1d) shows frames the edit list hides
# (measured: a 120-frame clip decoded to 121 frames, and to 210 as raw video, while
# ffprobe and the libaom decoder show 120), so an AV1 copy is not exact in ffmpeg.
MP4_VIDEO = frozenset({"h264", "hevc", "vp9"})

# How a clip was cut, as metadata.json records it per clip.
COPY_EXACT = "copy-exact"  # packets copied; an edit list shows exactly the wanted frames
COPY_KEYFRAME = "copy-keyframe"  # packets copied from the keyframe at or before the start
REENCODE = "reencode"  # decoded and encoded again (x264 + AAC)


@dataclass(frozen=True)
class ClipJob:
    """One clip to cut: source times, destination file, and how to cut."""

    source: str
    destination: str
    start: Fraction  # seconds from the file start, on a frame start
    duration: Fraction
    has_audio: bool
    mode: ClipMode = "exact"  # what the user asked for (--clips)
    frames: tuple[int, int] = (0, 0)  # the clip's first and last frame of the source
    # the frame a keyframe copy starts on (the keyframe at or before `start`), if known
    keyframe_frame: int | None = None
    copy_video: bool = True  # the video codec can go into mp4 as it is
    threads: int = 0
    even_size: bool = True
    # Where decoding starts: before the keyframe that precedes `start`. Decoding from
    # there and trimming on the output side is exact even where the demuxer's own
    # seek is not (MPEG-TS/PS have no index and land on the next keyframe).
    decode_from: Fraction | None = None
    copy_audio: bool = True  # False: re-encode the audio of a copied clip (PCM etc.)
    encoding: str = "veryfast"  # x264 preset of re-encoded clips


def clip_command(job: ClipJob, ffmpeg_exe: str, method: str) -> list[str]:
    """The ffmpeg arguments that cut one clip by `method`.

    copy-exact: the input is seeked to `start` (the demuxer lands on the keyframe at
    or before it) and packets are copied; ffmpeg's edit list then starts the clip on
    the exact frame, and mp4.end_at ends it there (see cut_clip). copy-keyframe: the
    same packets, their timestamps shifted so the keyframe shows first. reencode:
    decoding starts before the keyframe and the output is trimmed, so the clip
    starts exactly on the first frame, audio cut at the same instant.
    """
    options: dict[str, object] = {
        "t": seconds_arg(job.duration),
        "map_metadata": 0,
        "fps_mode": "passthrough",
        "format": "mp4",
    }
    if method == REENCODE:
        source = _reencode_input(job, options)
    else:
        source = ffmpeg.input(input_url(job.source), ss=seconds_arg(job.start))
        options["c"] = "copy"
        if method == COPY_KEYFRAME:
            options["avoid_negative_ts"] = "make_zero"
        else:
            # the edit list must survive: no shifting of timestamps, and one on every
            # track even where nothing is skipped at the start (its duration ends it)
            options.update({"use_editlist": 1, "movflags": "+faststart"})
        if job.has_audio and not job.copy_audio:
            options.update({"c:a": "aac", "b:a": "192k"})
    video = source["v:0"]
    if method == REENCODE and not job.even_size:
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


def _encoder_options(encoding: str, audio: bool) -> dict[str, object]:
    """Every re-encoded output's codecs, clips and supercuts alike: x264 at `encoding`
    (crf 18, yuv420p, moov first for the web) and, with sound, AAC at 192 kb/s."""
    options: dict[str, object] = {
        "vcodec": "libx264",
        "preset": encoding,
        "crf": 18,
        "pix_fmt": "yuv420p",
        "movflags": "+faststart",
    }
    if audio:
        options.update({"acodec": "aac", "b:a": "192k"})
    return options


def _seeked_input(path: str, decode_from: Fraction) -> tuple[Any, Fraction]:
    """An input of `path` seeked to `decode_from` rounded down to the microsecond
    (-ss's own precision), and that seek point: what follows it is trimmed exactly."""
    seek = Fraction(seconds_arg(decode_from)) if decode_from > 0 else Fraction(0)
    return ffmpeg.input(input_url(path), **({"ss": seconds_arg(seek)} if seek else {})), seek


def _reencode_input(job: ClipJob, options: dict[str, object]) -> Any:
    """The input of a re-encoded clip, and its encoder options added to `options`."""
    decode_from = min(job.start if job.decode_from is None else job.decode_from, job.start)
    # the input seek is to the microsecond; the output -ss trims the rest
    source, seek = _seeked_input(job.source, decode_from)
    if job.start > seek:
        options["ss"] = seconds_arg(job.start - seek)
    options.update(_encoder_options(job.encoding, job.has_audio))
    if job.threads:
        options["threads"] = job.threads
    return source


@dataclass(frozen=True)
class CutClip:
    """How a clip came out: the method, and the source frames it shows."""

    method: str
    first_frame: int | None  # None: not known (a keyframe copy without a keyframe list)
    last_frame: int


def cut_clip(job: ClipJob) -> CutClip:
    """Cut one clip as `job.mode` asks; raise FFmpegError naming the clip on failure.

    exact: copied when the codec can go into mp4, then ended on its last frame and
    checked (the frames it shows, from its sample tables); a copy that does not show
    exactly the wanted frames, or a codec mp4 cannot carry, is re-encoded instead."""
    name = Path(job.destination).name
    first, last = job.frames
    if job.mode == "keyframe":
        _run(job, COPY_KEYFRAME)
        return CutClip(COPY_KEYFRAME, job.keyframe_frame, last)
    if job.mode == "exact" and job.copy_video:
        _run(job, COPY_EXACT)
        problem = _end_exactly(job)
        if problem is None:
            return CutClip(COPY_EXACT, first, last)
        log.warning(f"{name}: the stream copy is not frame-exact ({problem}); re-encoding it")
    elif job.mode == "exact":
        log.debug(f"{name}: its video codec cannot go into mp4 as it is; re-encoding it")
    _run(job, REENCODE)
    return CutClip(REENCODE, first, last)


def _run(job: ClipJob, method: str) -> None:
    run_command(
        clip_command(job, find_tools().ffmpeg, method), f"cutting {Path(job.destination).name}"
    )


def _end_exactly(job: ClipJob) -> str | None:
    """End the copied clip on its last frame (mp4.end_at), and check from its own
    sample tables (mp4.shown_frames, in-process: a packet listing by ffprobe cost as
    much again as the copy, mostly its start-up) that it shows exactly the wanted
    number of frames; None if it does, else what is wrong."""
    path = Path(job.destination)
    wanted = job.frames[1] - job.frames[0] + 1
    try:
        ended = mp4.end_at(path.read_bytes(), job.duration)
        shown = mp4.shown_frames(ended)
        if shown != wanted:
            return f"{shown} frames shown, {wanted} wanted"
        path.write_bytes(ended)
    except mp4.Mp4Error as error:
        return str(error)
    except OSError as error:
        return f"cannot rewrite it: {error.strerror}"
    return None


# ffmpeg cuts running at once in this process, over every video being finished
# (with --backend ray, several videos finish on driver threads at the same time).
_CUT_SLOTS = threading.BoundedSemaphore(cpu_count())
# Stream copies running at once: a copy is mostly process start-up, not work (an 8 s
# 720p clip: 0.12 s wall, 0.14 CPU-s, of which ffmpeg's start is 0.08 s; its packet
# check the same again), so several per CPU keep the CPUs busy.
_COPY_SLOTS = threading.BoundedSemaphore(4 * cpu_count())


def clip_mode(config: Config) -> ClipMode:
    """The clips' mode; a run that cuts nothing (--dry-run) has none."""
    mode = config.cut.mode
    if mode == "none":
        raise ValueError("a dry run cuts no clips")
    return mode


def clip_names(count: int, folder: str = "") -> list[str]:
    """The clips' paths inside the results folder: clip_1.mp4, ... (in `folder`)."""
    return [f"{folder}/clip_{i}.mp4" if folder else f"clip_{i}.mp4" for i in range(1, count + 1)]


def clip_jobs(
    video: VideoInfo,
    segments: Sequence[Segment],
    config: Config,
    staging: Path,
    names: Sequence[str] | None = None,
) -> list[ClipJob]:
    """One ffmpeg job per segment's clip, as cut_clips runs them (up to
    `config.processes` at once, the CPUs shared among them), written to `names`
    inside `staging` (default clip_names)."""
    names = clip_names(len(segments)) if names is None else names
    parallel = max(1, min(config.processes, len(segments)))
    threads = max(1, cpu_count() // parallel)
    jobs = []
    for index, (segment, name) in enumerate(zip(segments, names, strict=True), start=1):
        first, last = clip_frames(segment, video.clock, config.cut.padding)
        start = video.clock.start_of(first)
        keyframe = video.keyframe_at_or_before(start)
        jobs.append(
            ClipJob(
                source=testing.clip_source(video.path, index),
                decode_from=max(Fraction(0), keyframe - SEEK_MARGIN),
                copy_audio=all(codec in MP4_AUDIO for codec in video.audio_codecs),
                destination=str(staging / name),
                start=start,
                duration=video.clock.end_of(last) - start,
                mode=clip_mode(config),
                frames=(first, last),
                keyframe_frame=video.clock.frame_at(keyframe) if video.keyframes else None,
                copy_video=video.codec in MP4_VIDEO,
                has_audio=video.has_audio,
                threads=threads,
                encoding=config.cut.encoding,
                even_size=video.width % 2 == 0 and video.height % 2 == 0,
            )
        )
    return jobs


def cut_clips(
    video: VideoInfo,
    segments: Sequence[Segment],
    config: Config,
    staging: Path,
    names: Sequence[str] | None = None,
) -> list[ClipOutcome]:
    """Cut every segment's clip to its name in `names` (paths inside `staging`;
    default clip_names), several at once; a failed clip is recorded and the others
    still get cut."""
    if not segments:
        return []
    names = clip_names(len(segments)) if names is None else names
    for name in names:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
    jobs = clip_jobs(video, segments, config, staging, names)

    def cut_one(job: ClipJob, name: str) -> ClipOutcome:
        try:
            with _COPY_SLOTS if job.mode != "reencode" else _CUT_SLOTS:
                done = cut_clip(job)
        except Interrupted:
            raise
        except FacecutError as error:
            Path(job.destination).unlink(missing_ok=True)
            return ClipOutcome(None, str(error))
        return ClipOutcome(name, None, done.method, done.first_frame, done.last_frame)

    # copies all at once (see _COPY_SLOTS); encoders up to one per worker process
    at_once = len(jobs) if clip_mode(config) != "reencode" else min(config.processes, len(jobs))
    with ThreadPoolExecutor(max_workers=max(1, at_once)) as executor:
        futures = [
            executor.submit(cut_one, job, name) for job, name in zip(jobs, names, strict=True)
        ]
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


# ---------------------------------------------------------------- supercut

SUPERCUT = "supercut.mp4"


def supercut_command(
    video: VideoInfo,
    ranges: Sequence[tuple[int, int]],
    destination: str,
    encoding: str,
    ffmpeg_exe: str,
) -> list[str]:
    """One ffmpeg command that joins the frame ranges into one file, re-encoded.

    ffmpeg cannot copy several ranges into one mp4 frame-exactly (its muxer writes
    one edit per track), so the supercut is encoded: each range is an input of its
    own, seeked to before its keyframe and trimmed to its exact frames and samples (as
    a re-encoded clip is), and ffmpeg's concat filter joins them with no gap: each
    part's timestamps follow the last one's end, variable frame rates kept."""
    parts = []
    for first, last in ranges:
        start = video.clock.start_of(first)
        duration = video.clock.end_of(last) - start
        source, seek = _seeked_input(
            video.path, max(Fraction(0), video.keyframe_at_or_before(start) - SEEK_MARGIN)
        )
        window = {"start": seconds_arg(start - seek), "duration": seconds_arg(duration)}
        parts.append(source["v:0"].trim(**window).setpts("PTS-STARTPTS"))
        if video.has_audio:
            parts.append(source["a:0"].filter("atrim", **window).filter("asetpts", "PTS-STARTPTS"))
    joined = ffmpeg.concat(*parts, v=1, a=1 if video.has_audio else 0).node
    picture = joined[0]
    if video.width % 2 or video.height % 2:
        # yuv420p needs even sizes; crop one pixel rather than rescale.
        picture = picture.filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
    streams = [picture, *([joined[1]] if video.has_audio else [])]
    options: dict[str, object] = {"format": "mp4", "fps_mode": "passthrough"}
    options.update(_encoder_options(encoding, video.has_audio))
    args: list[str] = (
        ffmpeg.output(*streams, input_url(destination), **options)
        .global_args(*GLOBAL_OPTIONS, "-loglevel", "error")
        .overwrite_output()
        .compile(cmd=ffmpeg_exe)
    )
    return args


def cut_supercut(
    video: VideoInfo, ranges: Sequence[tuple[int, int]], config: Config, staging: Path
) -> SupercutOutcome:
    """supercut.mp4 of the frame ranges, checked (its frame count from its packets); a
    failure is recorded, never raised (the clips are already cut)."""
    started = time.monotonic()
    wanted = sum(last - first + 1 for first, last in ranges)
    destination = staging / SUPERCUT
    try:
        with _CUT_SLOTS:
            run_command(
                supercut_command(
                    video, ranges, str(destination), config.cut.encoding, find_tools().ffmpeg
                ),
                f"cutting {SUPERCUT}",
            )
        shown = len(shown_frame_times(str(destination)))
    except Interrupted:
        raise
    except FacecutError as error:
        destination.unlink(missing_ok=True)
        return SupercutOutcome(None, tuple(ranges), 0, time.monotonic() - started, str(error))
    seconds = time.monotonic() - started
    if shown != wanted:
        destination.unlink(missing_ok=True)
        problem = f"{SUPERCUT}: {shown} frames, {wanted} wanted; not kept"
        return SupercutOutcome(None, tuple(ranges), 0, seconds, problem)
    return SupercutOutcome(SUPERCUT, tuple(ranges), shown, seconds)


def batch_supercut_command(
    parts: Sequence[VideoInfo], destination: str, encoding: str, ffmpeg_exe: str
) -> list[str]:
    """One file of several videos' supercuts, one after another: each scaled into the
    first one's frame (aspect kept, padded), its sound resampled to 48 kHz stereo, or
    silence where it has none, so the concat filter can join parts that differ."""
    width, height = parts[0].width - parts[0].width % 2, parts[0].height - parts[0].height % 2
    streams = []
    for part in parts:
        source = ffmpeg.input(input_url(part.path))
        streams.append(
            source["v:0"]
            .filter("scale", width, height, force_original_aspect_ratio="decrease")
            .filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2")
            .filter("setsar", 1)
        )
        if part.has_audio:
            sound = source["a:0"]
        else:
            sound = ffmpeg.input(
                "anullsrc=r=48000:cl=stereo", f="lavfi", t=seconds_arg(part.duration)
            )["a"]
        streams.append(
            sound.filter("aresample", 48000).filter(
                "aformat", sample_fmts="fltp", channel_layouts="stereo"
            )
        )
    joined = ffmpeg.concat(*streams, v=1, a=1).node
    args: list[str] = (
        ffmpeg.output(
            joined[0],
            joined[1],
            input_url(destination),
            format="mp4",
            fps_mode="passthrough",
            **_encoder_options(encoding, True),
        )
        .global_args(*GLOBAL_OPTIONS, "-loglevel", "error")
        .overwrite_output()
        .compile(cmd=ffmpeg_exe)
    )
    return args


def cut_batch_supercut(folders: Sequence[Path], destination: Path, encoding: str) -> int:
    """destination: the supercuts in `folders` (each video's results, in input order)
    joined; returns how many there were (0: none, nothing written). Written next to
    its destination under a temporary name and renamed when complete. Raises
    FFmpegError if ffmpeg fails."""
    from .probe import probe

    parts = [probe(str(folder / SUPERCUT)) for folder in folders if (folder / SUPERCUT).is_file()]
    if not parts:
        return 0
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        with _CUT_SLOTS:
            run_command(
                batch_supercut_command(parts, str(partial), encoding, find_tools().ffmpeg),
                f"cutting {destination}",
            )
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return len(parts)
