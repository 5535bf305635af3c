"""Split a video's frame range into contiguous chunks: one per worker, none longer than
MAX_CHUNK_SECONDS; and the short dense chunks that refine appearances' edges."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Focus:
    """Where a refinement chunk looks for faces: the region x, y, w, h (frame pixels)
    around the appearance's face at its edge, for faces at least `smallest` px wide."""

    x: int
    y: int
    w: int
    h: int
    smallest: int


# A face moves at most this many of its widths, and shrinks to at most half its
# width, in the frames between an edge and the whole-frame search that found or
# lost it (at most a second apart).
FOCUS_REACH = 2.0
FOCUS_SHRINK = 0.5


def focus_around(
    boxes: Sequence[tuple[int, int, int, int]], frame_width: int, frame_height: int
) -> Focus:
    """The region to refine an edge in, from the appearance's face boxes (x, y, w, h)
    next to it: their union, widened by FOCUS_REACH face widths on every side and
    clipped to the frame; faces down to FOCUS_SHRINK of the smallest of them."""
    if not boxes:
        raise ValueError("a focus needs at least one face box")
    side = max(max(w, h) for _, _, w, h in boxes)
    margin = round(FOCUS_REACH * side)
    x0 = max(0, min(x for x, _, _, _ in boxes) - margin)
    y0 = max(0, min(y for _, y, _, _ in boxes) - margin)
    x1 = min(frame_width, max(x + w for x, _, w, _ in boxes) + margin)
    y1 = min(frame_height, max(y + h for _, y, _, h in boxes) + margin)
    smallest = max(1, round(FOCUS_SHRINK * min(w for _, _, w, _ in boxes)))
    return Focus(x0, y0, x1 - x0, y1 - y0, smallest)


@dataclass(frozen=True)
class Chunk:
    """Frames [start_frame, stop_frame) decoded by one worker, in order.

    Only frames that are multiples of the interval are analysed; `start_frame` is
    always such a frame and `stop_frame` is one past the chunk's last analysed frame,
    so no worker decodes frames nobody looks at.
    """

    index: int
    start_frame: int
    stop_frame: int
    interval: int
    refine: bool = False  # a short dense pass over a skipped stretch at an edge
    focus: Focus | None = None  # a refinement chunk's region; None: the whole frame

    @property
    def analysed_frames(self) -> range:
        return range(self.start_frame, self.stop_frame, self.interval)

    @property
    def frame_count(self) -> int:
        return self.stop_frame - self.start_frame


def plan_chunks(frame_count: int, workers: int, interval: int) -> list[Chunk]:
    """Divide the analysed frames (0, interval, 2*interval, ...) into at most
    `workers` contiguous chunks whose sizes differ by at most one analysed frame.

    Fewer chunks than workers are returned when there are fewer analysed frames
    than workers, so no worker is started with nothing to do.
    """
    if frame_count < 0:
        raise ValueError("frame_count must be >= 0")
    if workers < 1:
        raise ValueError("workers must be >= 1")
    if interval < 1:
        raise ValueError("interval must be >= 1")
    samples = -(-frame_count // interval)  # ceil: frames 0, interval, ... < frame_count
    count = min(workers, samples)
    chunks: list[Chunk] = []
    first_sample = 0
    for index in range(count):
        size = samples // count + (1 if index < samples % count else 0)
        last_sample = first_sample + size - 1
        chunks.append(Chunk(index, first_sample * interval, last_sample * interval + 1, interval))
        first_sample = last_sample + 1
    return chunks


# A first-pass chunk covers at most this much video, however few workers there are:
# the scan cache keeps finished chunks, so a run killed at ~50% of a 2-hour video
# resumes from ~12 of 24 chunks instead of rescanning 2 unfinished halves; a worker
# that dies costs at most this much work. Each chunk starts a decoder with a seek
# (~0.45 CPU-s on the 720p montage): ~0.2% of a 300 s chunk's scan with --speed.
MAX_CHUNK_SECONDS = 300


def max_chunk_frames(fps: Fraction) -> int:
    """The most frames a first-pass chunk covers at `fps` (MAX_CHUNK_SECONDS)."""
    return max(1, math.floor(fps * MAX_CHUNK_SECONDS))


def chunk_count(frame_count: int, workers: int, max_frames: int) -> int:
    """How many chunks to split a video into: one per worker, and more when that
    would make a chunk longer than `max_frames` (a worker that dies then costs at
    most that much work, and the scan cache resumes at that grain)."""
    if workers < 1 or max_frames < 1:
        raise ValueError("workers and max_frames must be >= 1")
    return max(workers, -(-frame_count // max_frames))


def plan_refinement(
    ranges: list[tuple[int, int]],
    join_within: int = 0,
    focus: Callable[[int, int], Focus | None] | None = None,
) -> list[Chunk]:
    """Chunks that analyse every frame of the given [first, stop) ranges; each range
    is short, so one chunk each, spread over the workers by the pool.

    Ranges at most `join_within` frames apart share one chunk, the frames between
    them analysed too: a chunk starts its own decoder, which seeks and decodes up to
    a keyframe interval before its first frame (~0.45 CPU-s per chunk on the 720p
    montage), more than analysing the one sampled frame that separates the two
    ranges on either side of an appearance's edge (~0.2 s at worst, dlib's HOG at
    640 px). `focus(first, stop)` says where each chunk looks (None: everywhere)."""
    merged: list[tuple[int, int]] = []
    for first, stop in sorted(r for r in ranges if r[1] > r[0]):
        if merged and first - merged[-1][1] <= join_within:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((first, stop))
    return [
        Chunk(index, first, stop, 1, refine=True, focus=focus(first, stop) if focus else None)
        for index, (first, stop) in enumerate(merged)
    ]
