"""The analysis core on synthetic chunk results: labelling, refinement planning,
lost-frame accounting, the exit-code rules (pure: no media, no models)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from facecut.analysis import (EXIT_ERROR, EXIT_FOUND, EXIT_NOT_FOUND, ChunkResult, analyse,
                              batch_exit_code, exit_code, face_distances, frames_missing,
                              frames_refined, label, prefer_refined, refinement, by_photos)
from facecut.config import ScanSettings, SegmentSettings
from facecut.errors import VideoError
from facecut.planning import Chunk, Focus, focus_around
from facecut.segments import Box, Face, FrameFaces, Segment
from facecut.timecode import FrameClock
from facecut.tracking import IDS_PER_CHUNK

CLOCK = FrameClock.constant(300, Fraction(30))
BOX = Box(100, 100, 80, 80)
THRESHOLD = 0.5


def scan_settings(interval: int = 1) -> ScanSettings:
    return ScanSettings(model="Dlib", detector="dlib", detect_size=640, interval=interval,
                        metric="euclidean", model_threshold=THRESHOLD)


def segment_settings(min_gap: Fraction = Fraction(1, 2)) -> SegmentSettings:
    return SegmentSettings(threshold=THRESHOLD, min_gap=min_gap, min_duration=Fraction(0))


def frame(index: int, distance: float | None, track: int = 0) -> FrameFaces:
    """One face on `track` with `distance` (None: not embedded on this frame)."""
    return FrameFaces(index, (Face(BOX, 0.99, None if distance is None else (distance,), track),))


def chunk_result(chunk: Chunk, frames: list[FrameFaces],
                 ends: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
                 decoded: int | None = None, partial: frozenset[int] = frozenset()
                 ) -> ChunkResult:
    return ChunkResult(chunk, tuple(frames),
                       chunk.frame_count if decoded is None else decoded, ends or {}, partial)


def embedding(value: float) -> np.ndarray:
    return np.array([value, 0.0])


# ---------------------------------------------------------------- label

@pytest.mark.parametrize("distances, expected", [
    # (distance per frame 0..4, None = not embedded there) -> {frame: matched_by}
    ([0.3, 0.3, 0.3, 0.3, 0.3], {0: "self", 1: "self", 2: "self", 3: "self", 4: "self"}),
    # frames the track vouches for (not embedded) match by track
    ([0.3, None, None, 0.3, None], {0: "self", 1: "track", 2: "track", 3: "self", 4: "track"}),
    # one embedding over the threshold but under the split distance (0.65): the
    # track still vouches for it
    ([0.3, 0.6, 0.3, 0.3, 0.3], {0: "self", 1: "track", 2: "self", 3: "self", 4: "self"}),
    # over the split distance: clearly someone else, the track's vouching is vetoed
    ([0.3, 0.9, 0.3, 0.3, 0.3], {0: "self", 2: "self", 3: "self", 4: "self"}),
    # a track whose best embeddings are far is nobody we look for
    ([0.8, None, 0.8, None, 0.8], {}),
])
def test_label_by_face_and_by_track(distances, expected):
    results = [chunk_result(Chunk(0, 0, 5, 1), [frame(i, d) for i, d in enumerate(distances)])]
    [matches] = label(results, scan_settings(), THRESHOLD)
    assert {index: match.by for index, match in matches.items()} == expected


@pytest.mark.parametrize("end_distance, joined", [(0.1, True), (0.9, False)])
def test_tracks_join_across_a_chunk_boundary_only_when_their_ends_agree(end_distance, joined):
    """Chunk 0's track matched by itself; chunk 1's track was never embedded close
    enough by itself, so only a join lets the first track vouch for it."""
    first = Chunk(0, 0, 3, 1)
    second = Chunk(1, 3, 6, 1)
    track_b = IDS_PER_CHUNK  # chunk 1's id block
    results = [
        chunk_result(first, [frame(0, 0.3), frame(1, None), frame(2, 0.3)],
                     ends={0: (embedding(0.0), embedding(0.0))}),
        chunk_result(second, [frame(3, 0.55, track_b), frame(4, None, track_b),
                              frame(5, None, track_b)],
                     ends={track_b: (embedding(end_distance), embedding(end_distance))}),
    ]
    [matches] = label(results, scan_settings(), THRESHOLD)
    assert (3 in matches and 4 in matches and 5 in matches) is joined
    assert {0, 1, 2} <= set(matches)


# ---------------------------------------------------------------- refinement

def test_no_refinement_when_every_frame_was_searched_whole():
    results = [chunk_result(Chunk(0, 0, 10, 1), [frame(i, 0.3 if 3 <= i < 7 else 0.9)
                                                 for i in range(10)])]
    assert refinement(results, CLOCK, scan_settings(), segment_settings()) == []


def test_sampled_pass_refines_the_skipped_frames_at_both_edges():
    """Every 10th frame analysed; the person matched on samples 100..150. The frames
    between the last miss and the first hit (91..99) and between the last hit and the
    next miss (151..159) are refined, and with min_gap 0 nothing beyond them."""
    samples = [frame(i, 0.3 if 100 <= i <= 150 else 0.9) for i in range(0, 300, 10)]
    results = [chunk_result(Chunk(0, 0, 291, 10), samples)]
    chunks = refinement(results, CLOCK, scan_settings(10), segment_settings(Fraction(0)))
    assert [(c.start_frame, c.stop_frame) for c in chunks] == [(91, 100), (151, 160)]
    assert all(c.refine and c.interval == 1 for c in chunks)


def test_sampled_pass_reaches_past_a_missed_sample_within_min_gap():
    """min_gap 0.5 s = 15 frames at 30 fps: the search goes on past the first missed
    sample after the edge, to the sample after the reach."""
    samples = [frame(i, 0.3 if 100 <= i <= 150 else 0.9) for i in range(0, 300, 10)]
    results = [chunk_result(Chunk(0, 0, 291, 10), samples)]
    chunks = refinement(results, CLOCK, scan_settings(10), segment_settings(Fraction(1, 2)))
    ranges = [(c.start_frame, c.stop_frame) for c in chunks]
    covered = {f for a, b in ranges for f in range(a, b)}
    assert set(range(151, 160)) | set(range(161, 170)) <= covered  # past sample 160
    assert set(range(81, 90)) | set(range(91, 100)) <= covered  # before sample 90


def test_where_one_person_hands_over_to_another_both_edges_are_refined():
    """Every 10th frame; person 0 on samples 0..140, person 1 on 150..290 (a cut in an
    interview: someone is always on screen). The frames between (141..149) are the end
    of one appearance and the start of the other, so they are refined; pooled
    together, the two people's frames have no edge there."""
    samples = [FrameFaces(i, (Face(BOX, 0.99, (0.3, 0.9) if i < 150 else (0.9, 0.3), i // 150),))
               for i in range(0, 300, 10)]
    results = [chunk_result(Chunk(0, 0, 300, 10), samples)]
    scan = scan_settings(10)
    two = by_photos(scan, THRESHOLD, 2)
    chunks = refinement(results, CLOCK, scan, segment_settings(Fraction(0)), labeller=two)
    assert [(c.start_frame, c.stop_frame) for c in chunks] == [(141, 150), (291, 300)]


def test_a_face_lost_by_the_near_search_between_matches_is_searched_whole():
    """Frame 4 was searched only near tracked faces and found nothing, between
    matches: it is not a reliable miss, so it is refined."""
    frames = [frame(i, 0.3) for i in range(10) if i != 4] + [FrameFaces(4, ())]
    results = [chunk_result(Chunk(0, 0, 10, 1), sorted(frames, key=lambda f: f.frame),
                            partial=frozenset({4, 5}))]
    ten_frames = FrameClock.constant(10, Fraction(30))
    chunks = refinement(results, ten_frames, scan_settings(), segment_settings())
    assert [(c.start_frame, c.stop_frame) for c in chunks] == [(4, 5)]


# ---------------------------------------------------------------- counting

def test_refined_frames_replace_the_first_pass_and_are_counted_once():
    first = chunk_result(Chunk(0, 0, 21, 10), [frame(0, 0.9), frame(10, 0.3), frame(20, 0.9)])
    refined = chunk_result(Chunk(0, 1, 11, 1, refine=True),
                           [frame(i, 0.3 if i >= 5 else 0.9) for i in range(1, 11)])
    kept = prefer_refined([first, refined])
    assert [f.frame for f in kept[0].frames] == [0, 20]  # frame 10 now comes from refinement
    assert kept[1] is refined
    # frames 1..9 only refinement analysed; frame 10 both passes did
    assert frames_refined([first, refined]) == 9


@pytest.mark.parametrize("decoded, declared, expected", [
    ((10, 10), None, 0),  # every chunk whole, no header count
    ((10, 7), None, 3),  # the second chunk stopped 3 frames short
    ((10, 10), 25, 5),  # the header promises 5 frames that have no packets
    ((10, 7), 25, 8),
    ((10, 10), 18, 0),  # a header that promises fewer is no loss
])
def test_frames_missing(decoded, declared, expected):
    results = [chunk_result(Chunk(0, 0, 10, 1), [], decoded=decoded[0]),
               chunk_result(Chunk(1, 10, 20, 1), [], decoded=decoded[1]),
               # a refinement chunk cut short is not a loss: its frames are sampled ones
               chunk_result(Chunk(0, 3, 8, 1, refine=True), [], decoded=1)]
    assert frames_missing(results, 20, declared) == expected


# ---------------------------------------------------------------- analyse

def test_analyse_merges_matches_into_appearances():
    frames = [frame(i, 0.3 if 30 <= i < 60 or 200 <= i < 230 else 0.9) for i in range(300)]
    results = [chunk_result(Chunk(0, 0, 150, 1), frames[:150]),
               chunk_result(Chunk(1, 150, 300, 1), frames[150:], decoded=140)]
    found = analyse(results, CLOCK, None, scan_settings(), segment_settings())
    assert found.people[0].segments == (Segment(30, 59), Segment(200, 229))
    assert len(found.frames) == 300 and found.frames_decoded == 290
    assert found.frames_missing == 10 and found.frames_refined == 0
    assert face_distances(found.frames)[:2] == (0.9, 0.9)


def test_analyse_without_a_decoded_frame_is_an_error():
    results = [chunk_result(Chunk(0, 0, 10, 1), [], decoded=0)]
    with pytest.raises(VideoError, match="no frame could be decoded"):
        analyse(results, CLOCK, None, scan_settings(), segment_settings())


# ---------------------------------------------------------------- exit codes

@pytest.mark.parametrize("segments, failed, expected", [
    (3, 0, EXIT_FOUND), (0, 0, EXIT_NOT_FOUND), (3, 1, EXIT_ERROR), (0, 0, 1),
])
def test_exit_code(segments, failed, expected):
    assert exit_code(segments, failed) == expected


@pytest.mark.parametrize("codes, expected", [
    ([0, 1, 1], 0), ([1, 1], 1), ([0, 2, 1], 2), ([1, 130], 2), ([0], 0),
])
def test_batch_exit_code_follows_grep(codes, expected):
    assert batch_exit_code(codes) == expected


def test_refinement_looks_around_the_face_next_to_its_frames():
    """Given the frame size, each refinement chunk looks around the person's face on
    the matched frames next to it (widened by two face widths, clipped to the frame),
    for faces down to half its width."""
    samples = [frame(i, 0.3 if 100 <= i <= 150 else 0.9) for i in range(0, 300, 10)]
    results = [chunk_result(Chunk(0, 0, 291, 10), samples)]
    chunks = refinement(results, CLOCK, scan_settings(10), segment_settings(Fraction(0)),
                        (1280, 720))
    # BOX is 80 px at (100, 100): 160 px of margin, clipped at the frame's top-left
    assert {c.focus for c in chunks} == {Focus(0, 0, 340, 340, 40)}
    # without the frame size, the whole frame
    assert all(c.focus is None for c in refinement(
        results, CLOCK, scan_settings(10), segment_settings(Fraction(0))))


@pytest.mark.parametrize("boxes, expected", [
    ([(500, 300, 40, 40)], Focus(420, 220, 200, 200, 20)),
    # the union of the boxes, widened by the larger face; the smaller sets the smallest size
    ([(500, 300, 40, 40), (520, 310, 60, 60)], Focus(380, 180, 320, 310, 20)),
    ([(1200, 650, 100, 100)], Focus(1000, 450, 280, 270, 50)),  # clipped to 1280x720
])
def test_focus_around(boxes, expected):
    assert focus_around(boxes, 1280, 720) == expected
