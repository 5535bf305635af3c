"""Decoding frames: one ffmpeg child per contiguous run of frames, piping BGR
pictures, each placed by its own timestamp."""

from __future__ import annotations

import collections
import queue
import subprocess
import threading
from collections.abc import Generator, Iterator
from fractions import Fraction

import ffmpeg  # ffmpeg-python
import numpy as np

from .errors import FFmpegError
from .probe import VideoInfo
from .process import children, killed_error, start
from .timecode import FrameClock, parse_rational, seconds_arg
from .tools import GLOBAL_OPTIONS, find_tools, input_url

# Decoding starts this long before the keyframe that precedes a chunk's first frame,
# so that even where the demuxer's seek is approximate (MPEG-TS/PS have no index)
# the decoder meets that keyframe; frames before the chunk are decoded and dropped.
SEEK_MARGIN = Fraction(1)
# If decoding still began after the chunk's first frame, retry from this much earlier.
SEEK_RETRY = Fraction(30)


def read_frames(
    video: VideoInfo, start_frame: int, stop_frame: int, every: int = 1
) -> Iterator[tuple[int, np.ndarray]]:
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
            yield from _decode(
                video, max(Fraction(0), seek - SEEK_RETRY), start_frame, stop_frame, every
            )
            return
        first = False
        yield index, frame


def frame_selection(
    clock: FrameClock, start_time: Fraction, start_frame: int, every: int
) -> str | None:
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


def decoder_command(
    video: VideoInfo, seek: Fraction, start_frame: int, every: int, ffmpeg_exe: str
) -> list[str]:
    """The ffmpeg command that decodes from `seek` (seconds) to the end, dropping what
    frame_selection can, and pipes BGR frames with a showinfo line for each."""
    input_options: dict[str, object] = {"threads": 1, "copyts": None}
    if seek > 0:
        input_options["ss"] = seconds_arg(seek)
    stream = ffmpeg.input(input_url(video.path), **input_options)
    wanted = frame_selection(video.clock, video.start_time, start_frame, every)
    if wanted is not None:
        stream = stream.filter("select", wanted)
    args: list[str] = (
        stream.filter("showinfo", checksum=0)
        # one size for every frame, even if the stream changes resolution midway
        .filter("scale", video.width, video.height)
        .output(
            "pipe:",
            format="rawvideo",
            pix_fmt="bgr24",
            fps_mode="passthrough",
            an=None,
            sn=None,
            dn=None,
        )
        # showinfo writes at level info; no progress lines among its lines
        .global_args(*GLOBAL_OPTIONS, "-loglevel", "info", "-nostats")
        .compile(cmd=ffmpeg_exe)
    )
    return args


def _decode(
    video: VideoInfo, seek: Fraction, start_frame: int, stop_frame: int, every: int
) -> Generator[tuple[int, np.ndarray], None, None]:
    clock = video.clock
    what = f"decoding {video.path}"
    frame_bytes = video.width * video.height * 3
    process = start(
        decoder_command(video, seek, start_frame, every, find_tools().ffmpeg),
        what,
        bufsize=frame_bytes,
        die_with_parent=True,
    )
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
        children.remove(process)
    code = process.returncode
    if finished_early or code == 0:
        return
    if code < 0:
        raise killed_error(-code, what)
    if produced == 0:
        raise FFmpegError(f"{what}: {stamps.error_tail()}")
    # It decoded some frames and then failed: a damaged file. What decoded is kept;
    # the caller reports the frames that are missing.


_NO_TIME = object()


class _FrameStamps:
    """Reads ffmpeg's stderr on a thread and hands out each output frame's
    timestamp in seconds (input timeline) from the showinfo filter's lines."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
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
                self._queue.put(
                    int(pts) * self._time_base if pts.lstrip("-").isdigit() else _NO_TIME
                )
        self._queue.put(None)

    def next(self, path: str) -> object:
        """The next frame's timestamp, _NO_TIME, or None if ffmpeg ended."""
        try:
            return self._queue.get(timeout=120)
        except queue.Empty:
            raise FFmpegError(
                f"decoding {path}: ffmpeg produced a frame but no timestamp for it within 120 s"
            ) from None

    def error_tail(self) -> str:
        return " | ".join(list(self._other)[-3:]) or "ffmpeg failed without a message"

    def close(self) -> None:
        self._thread.join(timeout=5)
