"""Exact frame <-> time arithmetic.

Frame rates and timestamps are kept as `Fraction`s: 29.97 fps is 30000/1001, and
frame 17982 of it starts at exactly 17982 * 1001/30000 s. Floats only appear at the
edges (JSON, ffmpeg arguments), rounded in a direction chosen on purpose.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import overload


def parse_rational(text: str) -> Fraction | None:
    """Parse an ffprobe rate such as "30000/1001", "25/1" or "29.97".

    Returns None for the "0/0" ffprobe prints when a rate is unknown.
    """
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            if int(den) == 0:
                return None
            value = Fraction(int(num), int(den))
        else:
            value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def rational_text(value: Fraction) -> str:
    """Format a rate the way ffprobe does: "30000/1001", "25/1"."""
    return f"{value.numerator}/{value.denominator}"


def floor_microseconds(seconds: Fraction) -> Fraction:
    """Round down to whole microseconds, ffmpeg's internal time unit (AV_TIME_BASE).

    Rounding *down* keeps a cut that starts "at" a frame from skipping that frame.
    """
    return Fraction(math.floor(seconds * 1_000_000), 1_000_000)


def seconds_arg(seconds: Fraction) -> str:
    """A seconds value for an ffmpeg command line, exact to the microsecond (rounded down)."""
    micro = math.floor(seconds * 1_000_000)
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    return f"{sign}{micro // 1_000_000}.{micro % 1_000_000:06d}"


class EvenStarts(Sequence[Fraction]):
    """The frame starts first + i * step for i < count, exactly, in O(1) memory: a
    constant-rate video's clock. As a tuple, a 2-hour 30 fps video's 217,620
    Fractions took ~25 MB in every process and a 3 MB pickle (0.23 s to make, 0.38 s
    to read) in each of the 727 chunk tasks of its scan."""

    __slots__ = ("first", "length", "step")

    def __init__(self, first: Fraction, step: Fraction, count: int) -> None:
        if step <= 0 or count < 0:
            raise ValueError("frame starts need a positive step and a count >= 0")
        self.first = first
        self.step = step
        self.length = count

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> Fraction: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Fraction, ...]: ...

    def __getitem__(self, index: int | slice) -> Fraction | tuple[Fraction, ...]:
        if isinstance(index, slice):
            return tuple(self.first + i * self.step for i in range(*index.indices(self.length)))
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError("frame index out of range")
        return self.first + index * self.step

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EvenStarts):
            return (self.first, self.step, self.length) == (other.first, other.step, other.length)
        if isinstance(other, Sequence):
            return len(other) == self.length and all(
                a == b for a, b in zip(self, other, strict=True)
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))  # as the equal tuple's (O(n); clocks are rarely hashed)

    def __reduce__(self) -> tuple[type[EvenStarts], tuple[Fraction, Fraction, int]]:
        return EvenStarts, (self.first, self.step, self.length)

    def __repr__(self) -> str:
        return f"EvenStarts(first={self.first!r}, step={self.step!r}, count={self.length})"


def even_starts(ordered: Sequence[Fraction]) -> EvenStarts | None:
    """`ordered` as EvenStarts if its starts are exactly evenly spaced, else None."""
    if len(ordered) < 2:
        return None
    first = ordered[0]
    step = (ordered[-1] - first) / (len(ordered) - 1)
    if step <= 0 or any(b - a != step for a, b in pairwise(ordered)):
        return None
    return EvenStarts(first, step, len(ordered))


@dataclass(frozen=True)
class FrameClock:
    """When every frame of a video is on screen.

    `starts[i]` is the presentation time of frame i in seconds from the start of the
    file (ffmpeg's `-ss` origin), and `end` is when the last frame stops showing.
    Variable-frame-rate video is handled naturally: nothing assumes even spacing.
    """

    starts: Sequence[Fraction]  # sorted; EvenStarts when evenly spaced
    end: Fraction

    def __post_init__(self) -> None:
        if self.starts and self.end <= self.starts[-1]:
            raise ValueError("the last frame must end after it starts")

    @classmethod
    def constant(
        cls, frame_count: int, fps: Fraction, offset: Fraction = Fraction(0)
    ) -> FrameClock:
        """A clock for constant-rate video: frame i starts at offset + i/fps."""
        step = 1 / fps
        return cls(EvenStarts(offset, step, frame_count), offset + frame_count * step)

    @classmethod
    def from_timestamps(
        cls,
        starts: Sequence[Fraction],
        last_duration: Fraction | None,
        fallback_fps: Fraction | None,
    ) -> FrameClock:
        """Build a clock from presentation times (sorted here).

        The last frame lasts `last_duration` when the container says so, otherwise
        one nominal frame period, otherwise as long as the frame before it.
        """
        ordered = tuple(sorted(starts))
        return cls._ending(even_starts(ordered) or ordered, last_duration, fallback_fps)

    @classmethod
    def from_ticks(
        cls,
        ticks: Sequence[int],
        time_base: Fraction,
        origin: Fraction,
        last_duration: Fraction | None,
        fallback_fps: Fraction | None,
    ) -> FrameClock:
        """A clock from sorted presentation times in `time_base` ticks, less `origin`
        seconds (the last frame's duration as in from_timestamps). Evenly spaced
        ticks, as a constant-rate file has, are found in integer arithmetic and kept
        as EvenStarts, without a Fraction per frame."""
        starts: Sequence[Fraction]
        gap = ticks[1] - ticks[0] if len(ticks) >= 2 else 0
        if (
            gap > 0
            and ticks[-1] - ticks[0] == gap * (len(ticks) - 1)
            and all(b - a == gap for a, b in pairwise(ticks))
        ):
            starts = EvenStarts(ticks[0] * time_base - origin, gap * time_base, len(ticks))
        else:
            starts = tuple(t * time_base - origin for t in ticks)
        return cls._ending(starts, last_duration, fallback_fps)

    @classmethod
    def _ending(
        cls,
        ordered: Sequence[Fraction],
        last_duration: Fraction | None,
        fallback_fps: Fraction | None,
    ) -> FrameClock:
        """The clock of sorted starts `ordered`, its end after the last frame's
        duration (see from_timestamps)."""
        if not ordered:
            return cls((), Fraction(0))
        if last_duration is None or last_duration <= 0:
            if fallback_fps:
                last_duration = 1 / fallback_fps
            elif len(ordered) > 1:
                last_duration = ordered[-1] - ordered[-2]
            else:
                last_duration = Fraction(1, 25)
        return cls(ordered, ordered[-1] + last_duration)

    @property
    def frame_count(self) -> int:
        return len(self.starts)

    def start_of(self, frame: int) -> Fraction:
        return self.starts[frame]

    def end_of(self, frame: int) -> Fraction:
        """When frame `frame` stops showing: the next frame's start, or the clock's end."""
        return self.starts[frame + 1] if frame + 1 < len(self.starts) else self.end

    def regular_grid(self) -> tuple[Fraction, Fraction] | None:
        """(first start, frame step) when every frame starts within a quarter step of
        first + i * step, so rounding (t - first) / step names frame i; else None
        (variable frame rate). A quarter step leaves room for timestamps rounded to a
        coarse time base (33/33/34 ms at 30 fps) while staying unambiguous."""
        count = len(self.starts)
        if count < 2:
            return None
        if isinstance(self.starts, EvenStarts):
            return self.starts.first, self.starts.step
        first = self.starts[0]
        step = (self.starts[-1] - first) / (count - 1)
        if step <= 0:
            return None
        offsets = [float(start - first) for start in self.starts]
        slack = float(step) / 4
        step_f = float(step)
        if any(abs(offset - i * step_f) >= slack for i, offset in enumerate(offsets)):
            return None
        return first, step

    def frame_at(self, seconds: Fraction) -> int:
        """The frame on screen at `seconds`, clamped to the first and last frame."""
        index = bisect_right(self.starts, seconds) - 1
        return min(max(index, 0), len(self.starts) - 1)

    def nearest_frame(self, seconds: Fraction) -> int:
        """The frame whose start is closest to `seconds` (ties go to the later frame):
        maps a decoder's timestamp, possibly rounded, back to a frame index."""
        index = bisect_left(self.starts, seconds)
        if index >= len(self.starts):
            return len(self.starts) - 1
        if index > 0 and seconds - self.starts[index - 1] < self.starts[index] - seconds:
            return index - 1
        return index

    def last_frame_before(self, seconds: Fraction) -> int:
        """The last frame that starts strictly before `seconds`, clamped to the video."""
        index = bisect_left(self.starts, seconds) - 1
        return min(max(index, 0), len(self.starts) - 1)

    def typical_frame_duration(self) -> Fraction:
        """The median frame duration: the "one frame" of tolerances on VFR video."""
        if len(self.starts) < 2:
            return self.end - self.starts[0] if self.starts else Fraction(1, 25)
        if isinstance(self.starts, EvenStarts):
            return self.starts.step
        gaps = sorted(b - a for a, b in pairwise(self.starts))
        return gaps[len(gaps) // 2]
