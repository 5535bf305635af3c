"""From what the scan's chunks found to the run's outcome (pure: no I/O).

The scan hands over one `ChunkResult` per chunk. Here they become labelled frames
(which frames show the person, by their own face or by their track), the frames to
analyse again at the edges (refinement), the appearances, the count of frames that
never decoded, and the exit code. Every function takes values and returns values, so
each rule has table-driven tests on synthetic chunk results (tests/test_analysis.py).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .config import DiscoverySettings, ScanSettings, SegmentSettings
from .discovery import Track, largest_faces, placed, tracks
from .embeddings import distance
from .errors import VideoError
from .planning import Chunk, Focus, focus_around, plan_refinement
from .segments import (
    Box,
    FrameFaces,
    Match,
    Segment,
    edges_to_refine,
    frame_ranges,
    lost_near_matches,
    match_people,
    merge_segments,
)
from .timecode import FrameClock
from .tracking import join_tracks, track_distances

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class ChunkResult:
    """What scanning one chunk found."""

    chunk: Chunk
    frames: tuple[FrameFaces, ...]
    frames_decoded: int  # frames delivered, or with an interval, delivered x interval
    # each track's first and last embedding, so two tracks meeting at a chunk boundary
    # are joined only if they are the same person
    track_ends: dict[int, tuple[np.ndarray, np.ndarray]]
    # frames where only the windows around tracked faces were searched: a face found
    # there is real, but "no face" is not a reliable miss (a new face may be there)
    partial: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Appearances:
    """One person's part of a scan: the frames that show them and their segments."""

    matches: dict[int, Match]  # frame -> the face that shows the person
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Analysis:
    """A video's scan, analysed."""

    frames: tuple[FrameFaces, ...]  # every analysed frame, in order
    people: tuple[Appearances, ...]  # one per person searched, in Config.people order
    frames_decoded: int  # by the first pass
    frames_refined: int  # analysed only by edge refinement
    frames_missing: int  # promised by the container or the plan, but never decoded

    @property
    def found(self) -> bool:
        """Some frame shows somebody searched."""
        return any(person.matches for person in self.people)


# Which analysed frames show each person, and by which face: one dict per person.
Labeller = Callable[[Sequence[ChunkResult]], tuple[dict[int, Match], ...]]


def joined_tracks(
    results: Sequence[ChunkResult], scan: ScanSettings, threshold: float
) -> dict[int, int]:
    """Every track's id joined across chunk boundaries (tracking.join_tracks), where
    its ends' embeddings are within `threshold`: track id -> joined id."""
    seen = [frame for result in results for frame in result.frames]
    ends = {track: pair for result in results for track, pair in result.track_ends.items()}

    def same_person(earlier: int, later: int) -> bool:
        if earlier not in ends or later not in ends:
            return False
        return distance(ends[later][0], ends[earlier][1], scan.metric) <= threshold

    return join_tracks(seen, same_person)


def label(
    results: Sequence[ChunkResult], scan: ScanSettings, threshold: float, people: int = 1
) -> tuple[dict[int, Match], ...]:
    """Which analysed frames show each of `people` searched with photos: by their own
    face, or by a track (joined across chunk boundaries when its ends are the same
    person) whose faces match; one face is at most one person
    (segments.match_people)."""
    seen = [frame for result in results for frame in result.frames]
    joined = joined_tracks(results, scan, threshold)
    by_track = [track_distances(seen, joined, person=person) for person in range(people)]
    return match_people(seen, people, threshold, by_track, joined, veto=scan.split_distance)


def by_photos(scan: ScanSettings, threshold: float, people: int) -> Labeller:
    """The labeller of people searched with photos (label)."""
    return lambda results: label(results, scan, threshold, people)


def video_tracks(
    results: Sequence[ChunkResult], scan: ScanSettings, threshold: float
) -> tuple[list[Track], dict[int, int]]:
    """Every joined face track of a scan (refined frames preferred, as `analyse`
    sees them), and the joins."""
    kept = prefer_refined(results)
    frames = [frame for result in kept for frame in result.frames]
    ends = {track: pair for result in kept for track, pair in result.track_ends.items()}
    joined = joined_tracks(kept, scan, threshold)
    return tracks(frames, ends, joined), joined


def by_anyone(scan: ScanSettings, threshold: float, settings: DiscoverySettings) -> Labeller:
    """With no photo, before grouping: each track grouping will place, as a "person"
    of its own (their edges are what refinement must pin, whoever the tracks turn out
    to be, and a track's edges include its person's)."""

    def label_tracks(results: Sequence[ChunkResult]) -> tuple[dict[int, Match], ...]:
        found, joined = video_tracks(results, scan, threshold)
        ids = [track.id for track in placed(found, settings)]
        return _by_owner(results, joined, {track: i for i, track in enumerate(ids)}, len(ids))

    return label_tracks


def by_groups(members: Sequence[Collection[int]], joined: Mapping[int, int]) -> Labeller:
    """With no photo, after grouping: each person is the joined tracks `members[p]`
    (`joined`: the joins video_tracks found); in each frame their largest face."""
    owner = {track: person for person, ids in enumerate(members) for track in ids}
    return lambda results: _by_owner(results, joined, owner, len(members))


def _by_owner(
    results: Sequence[ChunkResult], joined: Mapping[int, int], owner: Mapping[int, int], count: int
) -> tuple[dict[int, Match], ...]:
    """Each of `count` owners' frames (discovery.largest_faces), in owner order."""
    frames = [frame for result in results for frame in result.frames]
    found = largest_faces(frames, joined, owner)
    return tuple(found.get(number, {}) for number in range(count))


def refinement(
    first_pass: Sequence[ChunkResult],
    clock: FrameClock,
    scan: ScanSettings,
    segments: SegmentSettings,
    frame_size: tuple[int, int] | None = None,
    labeller: Labeller | None = None,
) -> list[Chunk]:
    """Chunks that analyse the frames next to every edge of each person's appearances
    (as `labeller` finds them; default: one person by photos) that the first pass
    skipped (interval > 1) or searched only near tracked faces. Edges are found person
    by person: where one person's appearance ends as another's begins (a cut in an
    interview), the frames between are an edge of both, though someone is on screen
    throughout. Given the frame size, each chunk looks only around the faces that
    matched next to its frames (refinement_focus); else over the whole frame."""
    people = (labeller or by_photos(scan, segments.threshold, 1))(first_pass)
    partial = {frame for result in first_pass for frame in result.partial}
    if scan.interval == 1 and not partial:
        return []
    analysed = sorted({frame.frame for result in first_pass for frame in result.frames})
    # Sampled passes also look past a missed sample within min-gap of an edge: a face
    # lost there for a frame would have been bridged had every frame been seen.
    frame_duration = clock.typical_frame_duration()
    reach = (
        0
        if scan.interval == 1 or frame_duration <= 0
        else math.ceil(segments.min_gap / frame_duration)
    )
    # Each person's edges need only the analysed frames around their own: with no
    # photo every track is a "person" (1170 in a 2-hour video), so each looks at its
    # window, not the whole video. The window reaches past the farthest frame an edge
    # can look at (the reach, then the next analysed frame, up to a whole-frame search
    # interval apart), so its ends are never mistaken for the video's.
    margin = reach + 2 * max(scan.interval, scan.full_detect_every) + 2
    wanted: list[int] = []
    for matched in people:
        if not matched:
            continue
        hits = sorted(matched)
        window = analysed[
            bisect_left(analysed, hits[0] - margin) : bisect_right(analysed, hits[-1] + margin)
        ]
        # a frame searched only near tracked faces is a miss of this person only if
        # it matched them (their face, if tracked, was looked for; a new face was not)
        reliable = [frame for frame in window if frame not in partial or frame in matched]
        ranges = edges_to_refine(
            reliable,
            hits,
            clock.frame_count,
            max(scan.interval, scan.full_detect_every),
            reach,
        )
        wanted += [f for a, b in ranges for f in range(a, b)]
        # A tracked face lost by the near search between two matches (it moved fast,
        # turned): search those frames whole too, so a miss that is not reliable never
        # splits an appearance.
        wanted += lost_near_matches(partial, matched, scan.full_detect_every)
    boxes: dict[int, list[Box]] = {}
    for matched in people:
        for frame, match in matched.items():
            boxes.setdefault(frame, []).append(match.face.box)
    focus = None if frame_size is None else refinement_focus(boxes, scan, frame_size)
    return plan_refinement(frame_ranges(wanted), join_within=1, focus=focus)


def refinement_focus(
    matched: Mapping[int, Sequence[Box]], scan: ScanSettings, frame_size: tuple[int, int]
) -> Callable[[int, int], Focus | None]:
    """Where a refinement chunk of frames [first, stop) looks: around the matched
    faces (`matched`: frame -> boxes) within one whole-frame search interval of it (an
    edge's range always lies next to such a frame; None if none is).

    Why: refinement exists to pin this appearance's edge, and the person's face is
    near where the first pass saw it; searching only there, for faces no smaller than
    half theirs, costs a tile or two instead of a tiled search of the whole frame
    (~100 ms on 720p at 32 px: 27 runs of the model)."""
    hits = sorted(matched)
    within = max(scan.interval, scan.full_detect_every)

    def focus(first: int, stop: int) -> Focus | None:
        near = hits[bisect_left(hits, first - within) : bisect_left(hits, stop + within)]
        if not near:
            return None
        boxes = [box for frame in near for box in matched[frame]]
        return focus_around([(b.x, b.y, b.w, b.h) for b in boxes], *frame_size)

    return focus


def frames_refined(results: Sequence[ChunkResult]) -> int:
    """Frames only the refinement pass analysed (it also re-analyses the sampled frame
    between two nearby ranges it joined into one decoder: those do not count)."""
    refined = {frame.frame for result in results if result.chunk.refine for frame in result.frames}
    first = {
        frame.frame for result in results if not result.chunk.refine for frame in result.frames
    }
    return len(refined - first)


def prefer_refined(results: Sequence[ChunkResult]) -> list[ChunkResult]:
    """A frame analysed again by edge refinement keeps only its refined analysis."""
    again = {frame.frame for result in results if result.chunk.refine for frame in result.frames}
    if not again:
        return list(results)
    return [
        result
        if result.chunk.refine
        else replace(
            result, frames=tuple(frame for frame in result.frames if frame.frame not in again)
        )
        for result in results
    ]


def frames_missing(
    results: Sequence[ChunkResult], frame_count: int, declared_frames: int | None
) -> int:
    """Frames a first-pass chunk should have decoded but did not, plus frames the
    container's header promises beyond those that have packets (truncation)."""
    missing = sum(
        result.chunk.frame_count - result.frames_decoded
        for result in results
        if not result.chunk.refine and result.frames_decoded < result.chunk.frame_count
    )
    if declared_frames and declared_frames > frame_count:
        missing += declared_frames - frame_count
    return missing


def analyse(
    results: Sequence[ChunkResult],
    clock: FrameClock,
    declared_frames: int | None,
    scan: ScanSettings,
    segments: SegmentSettings,
    labeller: Labeller | None = None,
) -> Analysis:
    """The scan's chunk results, labelled by `labeller` (default: one person by
    photos) and merged into each person's appearances. Raises
    VideoError (naming nothing: the caller adds the video) if no frame decoded."""
    kept = prefer_refined(results)
    frames = tuple(
        sorted((frame for result in kept for frame in result.frames), key=lambda frame: frame.frame)
    )
    if not frames:
        raise VideoError("no frame could be decoded (damaged file?)")
    analysed = [frame.frame for frame in frames]
    appearances = tuple(
        Appearances(
            matches,
            tuple(
                merge_segments(
                    analysed,
                    sorted(matches),
                    clock,
                    scan.interval,
                    segments.min_gap,
                    segments.min_duration,
                )
            ),
        )
        for matches in (labeller or by_photos(scan, segments.threshold, 1))(kept)
    )
    return Analysis(
        frames=frames,
        people=appearances,
        frames_decoded=sum(result.frames_decoded for result in results if not result.chunk.refine),
        frames_refined=frames_refined(results),
        frames_missing=frames_missing(results, clock.frame_count, declared_frames),
    )


def face_distances(frames: Sequence[FrameFaces]) -> tuple[float, ...]:
    """Every embedded face's distance to the nearest person's closest photo
    (--calibrate)."""
    return tuple(
        face.distance for frame in frames for face in frame.faces if face.distance is not None
    )


def exit_code(segments: int, clips_failed: int) -> int:
    """grep's rule for one video: an error (a clip that failed) wins, then a match."""
    if clips_failed:
        return EXIT_ERROR
    return EXIT_FOUND if segments else EXIT_NOT_FOUND


def batch_exit_code(codes: Sequence[int]) -> int:
    """grep's rule over several files: an error wins, then any match, else none."""
    if any(code not in (EXIT_FOUND, EXIT_NOT_FOUND) for code in codes):
        return EXIT_ERROR
    return EXIT_FOUND if EXIT_FOUND in codes else EXIT_NOT_FOUND
