"""Turn per-frame face matches into segments (appearances) and clip ranges."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .timecode import FrameClock


@dataclass(frozen=True)
class Box:
    """A face box in displayed-frame pixels (x, y of the top-left corner)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class Face:
    """One detected face: where, how sure the detector is, how far from each person
    searched (in Config.people's order; None when it was not embedded: its track's
    identity speaks for it), and the face track it belongs to (-1: none)."""

    box: Box
    confidence: float
    distances: tuple[float, ...] | None
    track: int = -1

    @property
    def distance(self) -> float | None:
        """The distance to the nearest person (None: not embedded, or nobody searched)."""
        return min(self.distances) if self.distances else None

    def nearest(self) -> int | None:
        """The person this face is nearest to (None: not embedded)."""
        if not self.distances:
            return None
        return min(range(len(self.distances)), key=self.distances.__getitem__)


@dataclass(frozen=True)
class FrameFaces:
    """Every face found in one analysed frame (possibly none)."""

    frame: int
    faces: tuple[Face, ...]


@dataclass(frozen=True)
class Match:
    """Why a frame counts as the person: its face matched by itself ("self"), or it
    belongs to a face track that matched ("track")."""

    face: Face
    by: str
    track: int = -1


@dataclass(frozen=True)
class Segment:
    """One appearance: frames start_frame..end_frame, both inclusive."""

    start_frame: int
    end_frame: int

    def __post_init__(self) -> None:
        if self.end_frame < self.start_frame:
            raise ValueError("a segment ends before it starts")

    def start_time(self, clock: FrameClock) -> Fraction:
        return clock.start_of(self.start_frame)

    def end_time(self, clock: FrameClock) -> Fraction:
        """The end of the segment's last frame (not its start)."""
        return clock.end_of(self.end_frame)

    def duration(self, clock: FrameClock) -> Fraction:
        return self.end_time(clock) - self.start_time(clock)


def match_people(
    results: Iterable[FrameFaces],
    people: int,
    threshold: float,
    track_distances: Sequence[Mapping[int, float]] = (),
    joined: Mapping[int, int] | None = None,
    veto: float | None = None,
) -> tuple[dict[int, Match], ...]:
    """For each person, every analysed frame that shows them, with the face that does.

    A face can show person p by itself, when its own distance to p is within
    `threshold`, or by track, when its (joined) track's distance to p
    (`track_distances[p]`) is within `threshold` and its own distance to p, if known,
    is not above `veto` (clearly someone else). In each frame, faces and people are
    paired one to one, best pair first: by itself before by track, then the nearer.
    So a face is never two people, each person keeps one face, and two look-alikes
    side by side each keep their own even when both faces are nearest the same one.
    Frames where a person has no face are absent from theirs.
    """
    joined = joined or {}
    found: tuple[dict[int, Match], ...] = tuple({} for _ in range(people))
    for result in results:
        # (by track?, distance, face number, person, how, track): best pair first
        pairs: list[tuple[int, float, int, int, str, int]] = []
        for number, face in enumerate(result.faces):
            track = joined.get(face.track, face.track)
            for person in range(people):
                own = None if face.distances is None else face.distances[person]
                if own is not None and own <= threshold:
                    pairs.append((0, own, number, person, "self", track))
                    continue
                by_track = (
                    track_distances[person].get(track) if person < len(track_distances) else None
                )
                vetoed = veto is not None and own is not None and own > veto
                if by_track is not None and by_track <= threshold and not vetoed:
                    pairs.append((1, by_track, number, person, "track", track))
        taken: set[int] = set()
        for _, _, number, person, how, track in sorted(pairs):
            if number in taken or result.frame in found[person]:
                continue
            taken.add(number)
            found[person][result.frame] = Match(result.faces[number], how, track)
    return found


def merge_segments(
    analysed: Sequence[int],
    matched: Iterable[int],
    clock: FrameClock,
    interval: int,
    min_gap: Fraction,
    min_duration: Fraction,
) -> list[Segment]:
    """Group matched frames into segments.

    `analysed` lists every frame that was looked at (every `interval`-th frame, plus
    dense stretches where edges were refined). A matched frame stands for the frames
    up to the next analysed frame, since nothing was seen in between, but never for
    more than `interval` frames (frames that could not be decoded are not assumed).
    Runs that touch, or are separated by less than `min_gap` seconds, are merged;
    then segments shorter than `min_duration` seconds are dropped.
    """
    if interval < 1:
        raise ValueError("interval must be >= 1")
    last_frame = clock.frame_count - 1
    looked = sorted(set(analysed))
    hits = set(matched)
    if not hits <= set(looked):
        raise ValueError("every matched frame must be an analysed frame")
    merged: list[Segment] = []
    for position, frame in enumerate(looked):
        if frame not in hits:
            continue
        if not 0 <= frame <= last_frame:
            raise ValueError(f"matched frame {frame} is outside the video (0..{last_frame})")
        following = looked[position + 1] if position + 1 < len(looked) else last_frame + 1
        current = Segment(frame, min(following, frame + interval, last_frame + 1) - 1)
        if merged:
            previous = merged[-1]
            touching = current.start_frame <= previous.end_frame + 1
            gap = current.start_time(clock) - previous.end_time(clock)
            if touching or gap < min_gap:
                merged[-1] = Segment(
                    previous.start_frame, max(previous.end_frame, current.end_frame)
                )
                continue
        merged.append(current)
    return [segment for segment in merged if segment.duration(clock) >= min_duration]


def edges_to_refine(
    analysed: Sequence[int], matched: Iterable[int], frame_count: int, interval: int, reach: int = 0
) -> list[tuple[int, int]]:
    """Frame ranges [first, stop) that were skipped next to an appearance's edge:
    analysing them pins every edge to the exact frame.

    An edge is a matched analysed frame whose next (end) or previous (start)
    analysed frame did not match. The skipped frames between it and that analysed
    frame are returned, plus every skipped frame within `reach` of it: the reach
    looks past analysed misses, so a face the detector lost on one sampled frame near
    the edge cannot cut the appearance short where analysing every frame would have
    bridged the gap (min_gap). Only
    frames that were skipped on purpose count (at most interval - 1 after an analysed
    frame); a longer gap means frames that did not decode.
    """
    looked = sorted(set(analysed))
    hits = set(matched)
    wanted: set[int] = set()
    for position, here in enumerate(looked):
        if here not in hits:
            continue
        before = looked[position - 1] if position else None
        after = looked[position + 1] if position + 1 < len(looked) else None
        if after is None or after not in hits:
            # up to the next analysed frame, and past it within the reach, rounded out
            # to the analysed frame after the reach (a refined hit at the reach's end
            # must not stand for unseen frames beyond it)
            wanted.update(
                range(here + 1, min(frame_count if after is None else after, here + interval))
            )
            if reach:
                beyond = bisect_right(looked, here + reach)
                stop = looked[beyond] if beyond < len(looked) else frame_count
                wanted.update(range(here + 1, min(frame_count, stop)))
        if before is not None and before not in hits:
            wanted.update(range(max(before + 1, here - interval + 1), here))
            if reach:
                below = bisect_right(looked, max(0, here - reach) - 1) - 1
                start = looked[below] + 1 if below >= 0 else 0
                wanted.update(range(start, here))
    seen = set(looked)
    return frame_ranges(
        f
        for f in wanted
        if f not in seen
        and f - looked[bisect_right(looked, f) - 1] < interval
        and bisect_right(looked, f) > 0
    )


def lost_near_matches(partial: Iterable[int], matched: Collection[int], within: int) -> list[int]:
    """Frames searched only near tracked faces where nothing matched, between two
    matches each at most `within` frames away: a tracked face the near search lost
    (it moved fast or turned), to be searched again over the whole frame before it
    may split an appearance. (Frames past an appearance's last or before its first
    match are its edges, which edges_to_refine searches.)"""
    hits = sorted(matched)
    lost = []
    for frame in partial:
        if frame in matched:
            continue
        after = bisect_right(hits, frame)
        if 0 < after < len(hits) and hits[after] - frame <= within >= frame - hits[after - 1]:
            lost.append(frame)
    return sorted(lost)


def frame_ranges(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous [first, stop) ranges covering exactly the given frames."""
    ranges: list[tuple[int, int]] = []
    for frame in sorted(set(frames)):
        if ranges and ranges[-1][1] == frame:
            ranges[-1] = (ranges[-1][0], frame + 1)
        else:
            ranges.append((frame, frame + 1))
    return ranges


def clip_frames(segment: Segment, clock: FrameClock, padding: Fraction) -> tuple[int, int]:
    """The inclusive frame range of a segment's clip with `padding` seconds of context
    on each side, clamped to the video.

    Padding is rounded outwards to whole frames: the clip starts on the frame that
    is on screen `padding` seconds before the segment, so cuts stay on frame edges.
    """
    if padding <= 0:
        return segment.start_frame, segment.end_frame
    first = clock.frame_at(segment.start_time(clock) - padding)
    last = clock.last_frame_before(segment.end_time(clock) + padding)
    return min(first, segment.start_frame), max(last, segment.end_frame)


def supercut_ranges(
    segments: Sequence[Segment], clock: FrameClock, padding: Fraction
) -> list[tuple[int, int]]:
    """The inclusive frame ranges of a supercut: every clip's frames (padding
    included), in time order, where clips that overlap or touch are one range, so no
    frame is shown twice and none between two clips is left out of both."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(clip_frames(segment, clock, padding) for segment in segments):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
