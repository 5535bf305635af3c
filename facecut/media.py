"""Everything that talks to ffmpeg and ffprobe: probing, decoding, cutting.

Commands are argument lists (never shell strings), built with ffmpeg-python where
it helps, and every input path is passed as `file:/absolute/path` so a name like
`-x.mp4`, `concat:...` or `http://...` can never be read as an option or protocol.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, Sequence

import ffmpeg  # ffmpeg-python
import numpy as np

from .errors import FFmpegError, Interrupted, VideoError
from .timecode import FrameClock, parse_rational, seconds_arg

# Container formats ffprobe reports for still images; they are not videos.
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                  "gif", "svg_pipe", "pgm_pipe", "ppm_pipe", "j2k_pipe", "qoi_pipe")


@dataclass(frozen=True)
class Tools:
    """Paths of the ffmpeg and ffprobe executables in use."""

    ffmpeg: str
    ffprobe: str | None


_tools: Tools | None = None


# -fps_mode (exact frame passthrough) arrived in ffmpeg 5.1.
MINIMUM_FFMPEG = (5, 1)


def ffmpeg_version(banner: str) -> tuple[int, int] | None:
    """(major, minor) from `ffmpeg -version`'s first line, e.g. "ffmpeg version
    5.1.9-0+deb12u1" or "ffmpeg version n9.0.2-17-g2a571b6068"; None if unknown
    (git builds without a release number)."""
    import re

    match = re.search(r"version n?(\d+)\.(\d+)", banner)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_tools() -> Tools:
    """ffmpeg/ffprobe from PATH, else the ffmpeg binary shipped by imageio-ffmpeg.

    An ffmpeg on PATH older than 5.1 (e.g. Ubuntu 22.04's 4.4) is passed over for
    imageio-ffmpeg's. imageio-ffmpeg has no ffprobe; probing then uses ffmpeg alone.
    """
    global _tools
    if _tools is not None:
        return _tools
    ffmpeg_exe = shutil.which("ffmpeg")
    ffprobe_exe = shutil.which("ffprobe")
    if ffmpeg_exe is not None:
        try:
            banner = subprocess.run([ffmpeg_exe, "-version"], capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            banner = ""
        version = ffmpeg_version(banner)
        if version is not None and version < MINIMUM_FFMPEG:
            ffmpeg_exe = None  # too old: use the pip-installed one below
    if ffmpeg_exe is None:
        try:
            import imageio_ffmpeg

            ffmpeg_exe = imageio_ffmpeg.get_ffmpeg_exe()
        except Exception as error:  # the package raises RuntimeError when it has no binary
            raise FFmpegError(
                "ffmpeg 5.1 or newer not found: install it (apt-get install ffmpeg) or "
                f"`pip install imageio-ffmpeg` ({error})") from None
    _tools = Tools(ffmpeg_exe, ffprobe_exe)
    return _tools


def input_url(path: str | os.PathLike[str]) -> str:
    """An ffmpeg input/output name that can only mean this local file."""
    return "file:" + os.path.abspath(os.fspath(path))


# ---------------------------------------------------------------- running commands

class ChildProcesses:
    """Every ffmpeg child this process started, so a signal handler can end them all."""

    # Reentrant: a signal handler runs on the main thread, possibly while that very
    # thread is inside add() or remove().
    _lock = threading.RLock()
    _children: set[subprocess.Popen[bytes]] = set()
    # Set when this process was told to stop, so a child that dies of a signal is
    # told apart from one that crashed (or was killed by the OOM killer).
    stopping = False

    @classmethod
    def add(cls, process: subprocess.Popen[bytes]) -> None:
        with cls._lock:
            cls._children.add(process)

    @classmethod
    def remove(cls, process: subprocess.Popen[bytes]) -> None:
        with cls._lock:
            cls._children.discard(process)

    @classmethod
    def raise_if_stopping(cls) -> None:
        """Raise Interrupted if a signal told this process to stop: long work on
        any thread calls this between steps, so nothing new starts after Ctrl-C."""
        if cls.stopping:
            raise Interrupted(signal.SIGINT)

    @classmethod
    def kill_all(cls) -> None:
        cls.stopping = True
        with cls._lock:
            children = list(cls._children)
        for process in children:
            if process.poll() is None:
                process.kill()


def _killed(signum: int, what: str) -> BaseException:
    """What to raise for an ffmpeg child that died of signal `signum`: we stopped it
    (Interrupted), or it crashed or was killed from outside, e.g. out of memory."""
    if ChildProcesses.stopping:
        return Interrupted(signum)
    return FFmpegError(f"{what}: ffmpeg was killed by {signal.Signals(signum).name} "
                       "(out of memory?)")


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "no error output"


def run_command(args: Sequence[str], what: str) -> str:
    """Run a command to completion and return its stdout; raise FFmpegError naming
    `what` failed with the tail of its stderr."""
    ChildProcesses.raise_if_stopping()  # a signal arrived: start nothing new
    try:
        process = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    except OSError as error:
        raise FFmpegError(f"{what}: cannot run {args[0]}: {error.strerror}") from None
    ChildProcesses.add(process)
    if ChildProcesses.stopping:
        process.kill()
    try:
        out, err = process.communicate()
    finally:
        ChildProcesses.remove(process)
    if process.returncode < 0:
        raise _killed(-process.returncode, what)
    if process.returncode != 0:
        raise FFmpegError(f"{what}: {_last_lines(err.decode('utf-8', 'replace'))}")
    return out.decode("utf-8", "replace")


# ---------------------------------------------------------------- probing

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
        from bisect import bisect_right

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
        if len(starts) < 3:
            return False
        gaps = {b - a for a, b in zip(starts, starts[1:])}
        return max(gaps) - min(gaps) > Fraction(1, 1000)


def _rotation(stream: dict) -> int:
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
    return int(round(-degrees)) % 360


def probe(path: str) -> VideoInfo:
    """Probe a video: streams, exact frame times, rotation, audio.

    Raises VideoError with a one-line reason for anything that is not a readable video.
    """
    source = Path(path)
    if not source.exists():
        raise VideoError(f"{path}: no such file")
    if source.is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if not os.access(source, os.R_OK):
        raise VideoError(f"{path}: permission denied")
    if source.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
    tools = find_tools()
    if tools.ffprobe is None:
        return _probe_with_ffmpeg(path, tools.ffmpeg)
    try:
        text = run_command([tools.ffprobe, "-v", "error", "-print_format", "json",
                            "-show_format", "-show_streams", input_url(path)], "ffprobe")
    except FFmpegError as error:
        raise VideoError(f"{path}: not a readable video ({_strip_prefix(str(error))})") from None
    document = json.loads(text or "{}")
    fmt = document.get("format") or {}
    streams = document.get("streams") or []
    video_streams = [s for s in streams if s.get("codec_type") == "video"
                     and not (s.get("disposition") or {}).get("attached_pic")]
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    if any(name in (fmt.get("format_name") or "").split(",") for name in _IMAGE_FORMATS):
        raise VideoError(f"{path}: is a still image, not a video")
    if not video_streams:
        kind = "audio only" if audio_streams else "no video stream"
        raise VideoError(f"{path}: has no video stream ({kind})")
    stream = video_streams[0]
    index = int(stream["index"])
    time_base = parse_rational(stream.get("time_base", "")) or Fraction(1, 90000)
    fps = (parse_rational(stream.get("avg_frame_rate", ""))
           or parse_rational(stream.get("r_frame_rate", "")))
    start_time = Fraction(fmt.get("start_time") or "0")

    packets = run_command([tools.ffprobe, "-v", "error", "-select_streams", str(index),
                           "-show_entries", "packet=pts,dts,duration,flags", "-of", "csv=p=0",
                           input_url(path)], "ffprobe packets")
    starts: list[Fraction] = []
    keyframes: list[Fraction] = []
    durations: dict[Fraction, Fraction] = {}
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
        start = int(stamp) * time_base - start_time
        starts.append(start)
        if "K" in flags:
            keyframes.append(start)
        if duration not in ("N/A", ""):
            durations[start] = int(duration) * time_base
    if not starts:
        raise VideoError(f"{path}: the video stream has no frames")
    starts.sort()
    clock = FrameClock.from_timestamps(starts, durations.get(starts[-1]), fps)
    if fps is None:
        fps = Fraction(clock.frame_count) / (clock.end - clock.starts[0]) if clock.frame_count > 1 \
            else Fraction(25)
        fps = fps.limit_denominator(1001)
    rotation = _rotation(stream)
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise VideoError(f"{path}: the video stream has no picture size")
    if rotation in (90, 270):
        width, height = height, width
    duration = Fraction(fmt["duration"]) if fmt.get("duration") not in (None, "N/A") else clock.end
    return VideoInfo(path=os.path.abspath(path), width=width, height=height, rotation=rotation,
                     fps=fps, clock=clock, audio_streams=len(audio_streams),
                     start_time=start_time, duration=max(duration, clock.end),
                     codec=str(stream.get("codec_name", "?")),
                     declared_frames=int(stream["nb_frames"]) - discarded
                     if str(stream.get("nb_frames", "")).isdigit() else None,
                     keyframes=tuple(sorted(keyframes)),
                     audio_codecs=tuple(str(a.get("codec_name", "?")) for a in audio_streams))


def _strip_prefix(message: str) -> str:
    return message.split(": ", 1)[1] if ": " in message else message


def _probe_with_ffmpeg(path: str, ffmpeg_exe: str) -> VideoInfo:
    """Probe without ffprobe (imageio-ffmpeg ships only ffmpeg).

    Frame times come from `-f framemd5` over the copied video packets (no decoding);
    sizes, rate, rotation and audio from ffmpeg's stream banner.
    """
    import re

    process = subprocess.run([ffmpeg_exe, "-hide_banner", "-nostdin", "-i", input_url(path),
                              "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"],
                             stdin=subprocess.DEVNULL, capture_output=True)
    banner = process.stderr.decode("utf-8", "replace")
    if process.returncode != 0 and "Stream #" not in banner:
        raise VideoError(f"{path}: not a readable video ({_last_lines(banner, 1)})")
    video_lines = [line for line in banner.splitlines()
                   if re.search(r"Stream #\d+:\d+.*: Video:", line) and "attached pic" not in line]
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
    rotation = int(round(-float(match.group(1)))) % 360 if match else 0
    if rotation in (90, 270):
        width, height = height, width
    start = re.search(r"start: (-?[\d.]+)", banner)
    start_time = Fraction(start.group(1)) if start else Fraction(0)
    text = process.stdout.decode("utf-8", "replace")
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
    if not starts:
        raise VideoError(f"{path}: the video stream has no frames")
    # framemd5 timestamps are already relative to the file's start time, the same
    # origin ffprobe-based probing uses.
    clock = FrameClock.from_timestamps(starts, last_duration, fps)
    return VideoInfo(path=os.path.abspath(path), width=width, height=height, rotation=rotation,
                     fps=fps or Fraction(25), clock=clock, audio_streams=audio_count,
                     start_time=start_time, duration=clock.end, codec="?")


# ---------------------------------------------------------------- decoding

def _with_global_options(args: list[str], *extra: str, loglevel: str = "error") -> list[str]:
    """Put ffmpeg's global options first (ffmpeg-python appends them last, where
    ffmpeg may treat them as trailing options)."""
    return [args[0], "-nostdin", "-hide_banner", "-loglevel", loglevel, *extra, *args[1:]]


# Decoding starts this long before the keyframe that precedes a chunk's first frame,
# so that even where the demuxer's seek is approximate (MPEG-TS/PS have no index)
# the decoder meets that keyframe; frames before the chunk are decoded and dropped.
SEEK_MARGIN = Fraction(1)
# If decoding still began after the chunk's first frame, retry from this much earlier.
SEEK_RETRY = Fraction(30)


def read_frames(video: VideoInfo, start_frame: int, stop_frame: int,
                every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """Decode frames [start_frame, stop_frame) in order, as displayed (rotation
    applied), as (frame index, BGR uint8 array), with one seek at the start and none
    after. Only frames whose index is a multiple of `every` are returned; on
    constant-rate video the others are dropped inside ffmpeg, before they are
    converted to BGR and piped, which is most of a skipped frame's cost.

    Each frame's index comes from its own timestamp (ffmpeg's showinfo filter with
    -copyts, so on the same origin as the probe), not from counting, so a frame the
    decoder drops (damaged data, inexact seek) is simply missing rather than
    shifting every later index. Stops early, without error, where the file ends
    sooner (truncation); raises FFmpegError if the decoder fails outright.
    """
    if stop_frame <= start_frame:
        return
    wanted = video.clock.start_of(start_frame)
    seek = max(Fraction(0), video.keyframe_at_or_before(wanted) - SEEK_MARGIN)
    first = True
    first_wanted = -(-start_frame // every) * every
    decoder = _decode(video, seek, start_frame, stop_frame, every)
    for index, frame in decoder:
        if first and index > first_wanted and seek > 0:
            # The demuxer landed after the frames we need: start again, further back
            # (ending this decoder first).
            decoder.close()
            yield from _decode(video, max(Fraction(0), seek - SEEK_RETRY), start_frame,
                               stop_frame, every)
            return
        first = False
        yield index, frame


def frame_selection(clock: FrameClock, start_time: Fraction, start_frame: int,
                    every: int) -> str | None:
    """An ffmpeg `select` expression (over input timestamps `t`, with -copyts) that
    drops, inside ffmpeg, frames before `start_frame` and, on constant-rate video,
    frames whose index is not a multiple of `every`; None if nothing can be dropped.

    Dropped there, a frame is decoded but never scaled, converted to BGR and piped,
    which is most of its cost. After a seek, decoding starts up to a keyframe
    interval early (a second or two here, ten seconds in many files), so the frames
    before the chunk are often more than the chunk itself. Frames let through by
    mistake are still dropped by index in Python; the bounds are half a frame (start)
    and a quarter step (grid) wide, so no wanted frame can be dropped."""
    conditions = []
    if 0 < start_frame < clock.frame_count:
        # the midpoint between the previous frame and this one: nearest_frame maps
        # every timestamp at or after it to start_frame or later
        boundary = start_time + (clock.start_of(start_frame - 1) + clock.start_of(start_frame)) / 2
        conditions.append(f"gte(t,{float(boundary)!r})")
    grid = clock.regular_grid() if every > 1 else None
    if grid is not None:
        # Frame i is at start_time + first + i * step (to within a quarter step):
        # keep i that are multiples of `every`.
        first, step = grid
        origin = start_time + first
        conditions.append(f"not(mod(round((t-({float(origin)!r}))/{float(step)!r}),{every}))")
    return "*".join(conditions) or None


def _decode(video: VideoInfo, seek: Fraction, start_frame: int, stop_frame: int,
            every: int) -> Iterator[tuple[int, np.ndarray]]:
    clock = video.clock
    input_options: dict[str, object] = {"threads": 1, "copyts": None}
    if seek > 0:
        input_options["ss"] = seconds_arg(seek)
    stream = ffmpeg.input(input_url(video.path), **input_options)
    wanted = frame_selection(clock, video.start_time, start_frame, every)
    if wanted is not None:
        stream = stream.filter("select", wanted)
    args = _with_global_options(
        stream
        .filter("showinfo", checksum=0)
        # one size for every frame, even if the stream changes resolution midway
        .filter("scale", video.width, video.height)
        .output("pipe:", format="rawvideo", pix_fmt="bgr24", fps_mode="passthrough",
                an=None, sn=None, dn=None)
        .compile(cmd=find_tools().ffmpeg),
        "-nostats", loglevel="info")  # showinfo writes at level info
    frame_bytes = video.width * video.height * 3
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, bufsize=frame_bytes,
                               preexec_fn=_die_with_parent)
    ChildProcesses.add(process)
    stamps = _FrameStamps(process)
    produced = 0
    finished_early = False
    try:
        assert process.stdout is not None
        while True:
            data = process.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            stamp = stamps.next(video.path)
            if stamp is _NO_TIME:
                continue  # a frame without a timestamp cannot be placed: skip it
            if stamp is None:
                break
            assert isinstance(stamp, Fraction)
            index = clock.nearest_frame(stamp - video.start_time)
            if index < start_frame:
                continue
            if index >= stop_frame:
                finished_early = True
                break
            if index % every:
                continue
            produced += 1
            yield index, np.frombuffer(data, dtype=np.uint8).reshape(video.height, video.width, 3)
            if index == stop_frame - 1:
                finished_early = True
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        stamps.close()
        ChildProcesses.remove(process)
    code = process.returncode
    if finished_early or code == 0:
        return
    if code < 0:
        raise _killed(-code, f"decoding {video.path}")
    if produced == 0:
        raise FFmpegError(f"decoding {video.path}: {stamps.error_tail()}")
    # It decoded some frames and then failed: a damaged file. What decoded is kept;
    # the caller reports the frames that are missing.


_NO_TIME = object()


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None  # not Linux: a decoder then ends on a broken pipe instead


# Loaded up front: the function below runs in the forked child before exec, where
# it must do as little Python as possible.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the decoder child, before exec: have Linux kill it if the worker that
    started it dies (even by SIGKILL), so no decoder outlives its worker."""
    if _PRCTL is not None:
        _PRCTL(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


class _FrameStamps:
    """Reads ffmpeg's stderr on a thread and hands out each output frame's
    timestamp in seconds (input timeline) from the showinfo filter's lines."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        import collections
        import queue

        self._queue: "queue.Queue[object]" = queue.Queue()
        self._time_base = Fraction(1, 1)
        self._other: collections.deque[str] = collections.deque(maxlen=5)
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if "Parsed_showinfo" not in line:
                if line:
                    self._other.append(line)
                continue
            if "config in time_base:" in line:
                base = line.split("config in time_base:", 1)[1].split(",", 1)[0].strip()
                self._time_base = parse_rational(base) or self._time_base
            elif " pts:" in line and " n:" in line:
                pts = line.split(" pts:", 1)[1].split()[0]
                self._queue.put(int(pts) * self._time_base if pts.lstrip("-").isdigit()
                                else _NO_TIME)
        self._queue.put(None)

    def next(self, path: str) -> object:
        """The next frame's timestamp, _NO_TIME, or None if ffmpeg ended."""
        import queue

        try:
            return self._queue.get(timeout=120)
        except queue.Empty:
            raise FFmpegError(f"decoding {path}: ffmpeg produced a frame but no timestamp "
                              "for it within 120 s") from None

    def error_tail(self) -> str:
        return " | ".join(list(self._other)[-3:]) or "ffmpeg failed without a message"

    def close(self) -> None:
        self._thread.join(timeout=5)


# ---------------------------------------------------------------- cutting

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
    streams = [source["v:0"]]
    if job.has_audio:
        streams.append(source["a"])
    args = _with_global_options(ffmpeg.output(*streams, input_url(job.destination), **options)
                                .compile(cmd=ffmpeg_exe), "-y")
    if not job.copy and not job.even_size:
        # yuv420p needs even sizes; crop one pixel rather than rescale.
        position = args.index("-map")
        args[position:position] = ["-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2"]
    # `source["a"]` maps every audio stream; make it optional-safe with `?`.
    return [arg if arg != "0:a" else "0:a?" for arg in args]


def cut_clip(job: ClipJob) -> None:
    """Cut one clip; raise FFmpegError naming the clip on failure."""
    run_command(clip_command(job, find_tools().ffmpeg), f"cutting {Path(job.destination).name}")
