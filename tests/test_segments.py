from fractions import Fraction

import pytest

from facecut.segments import (Box, Face, FrameFaces, Segment, clip_frames, edges_to_refine,
                              frame_ranges, lost_near_matches, merge_segments)
from matching import match_frames
from facecut.timecode import FrameClock

CLOCK = FrameClock.constant(300, Fraction(30))  # 10 s at 30 fps
F = Fraction


def segs(*pairs):
    return [Segment(a, b) for a, b in pairs]


@pytest.mark.parametrize("matched, interval, min_gap, min_duration, expected", [
    # contiguous frames form one segment
    ([10, 11, 12], 1, F(0), F(0), segs((10, 12))),
    # a one-frame hole is merged when the gap (1/30 s) is under min_gap
    ([10, 11, 13, 14], 1, F(1, 2), F(0), segs((10, 14))),
    # ... and kept apart with min_gap 0
    ([10, 11, 13, 14], 1, F(0), F(0), segs((10, 11), (13, 14))),
    # gap of exactly min_gap is not merged (strictly less merges)
    ([0, 16], 1, F(15, 30), F(0), segs((0, 0), (16, 16))),
    ([0, 15], 1, F(15, 30), F(0), segs((0, 15))),
    # min_duration drops short appearances after merging
    ([5, 100, 101, 102], 1, F(0), F(3, 30), segs((100, 102))),
    # interval > 1: each sample stands for the frames until the next sample
    ([10, 15, 20], 5, F(0), F(0), segs((10, 24))),
    ([10, 20], 5, F(0), F(0), segs((10, 14), (20, 24))),
    # the last sample is clamped to the last frame
    ([295], 10, F(0), F(0), segs((295, 299))),
    # duplicates and disorder are harmless
    ([12, 10, 11, 11], 1, F(0), F(0), segs((10, 12))),
    ([], 1, F(1, 2), F(0), []),
])
def test_merge_segments(matched, interval, min_gap, min_duration, expected):
    analysed = sorted(set(range(0, 300, interval)) | set(matched))
    assert merge_segments(analysed, matched, CLOCK, interval, min_gap, min_duration) == expected


def test_merge_rejects_frames_outside_the_video():
    with pytest.raises(ValueError):
        merge_segments([300], [300], CLOCK, 1, F(0), F(0))


def test_merge_rejects_matches_that_were_not_analysed():
    with pytest.raises(ValueError):
        merge_segments([0, 5], [3], CLOCK, 5, F(0), F(0))


def test_refined_edges_are_exact():
    # every 5th frame analysed; the person is on frames 13..31
    truth = set(range(13, 32))
    sparse = list(range(0, 300, 5))
    hits = [f for f in sparse if f in truth]                      # 15, 20, 25, 30
    assert merge_segments(sparse, hits, CLOCK, 5, F(0), F(0)) == segs((15, 34))
    ranges = edges_to_refine(sparse, hits, 300, 5)
    assert ranges == [(11, 15), (31, 35)]
    dense = sorted(set(sparse) | {f for a, b in ranges for f in range(a, b)})
    hits = [f for f in dense if f in truth]
    assert merge_segments(dense, hits, CLOCK, 5, F(0), F(0)) == segs((13, 31))


@pytest.mark.parametrize("analysed, matched, frames, expected", [
    ([0, 5, 10], [], 12, []),                        # nobody: nothing to refine
    ([0, 5, 10], [0, 5, 10], 12, [(11, 12)]),        # to the end of the video
    ([0, 5, 10], [0, 5, 10], 11, []),                # last frame analysed
    ([0, 5, 10], [5], 12, [(1, 5), (6, 10)]),
    ([0, 1, 2], [1], 3, []),                         # dense already
    # frames 25..4999 never decoded: refine only interval-1 frames beside each hit
    ([0, 5, 10, 15, 20, 5000, 5005], [20, 5000], 6000, [(16, 20), (5001, 5005)]),
    ([0, 5, 10, 15, 20, 5000, 5005], [20], 6000, [(16, 20), (21, 25)]),
])
def test_edges_to_refine(analysed, matched, frames, expected):
    assert edges_to_refine(analysed, matched, frames, 5) == expected


def test_undecodable_tail_is_not_assumed():
    # the last analysed frame matched but frames after it never decoded (truncation)
    assert merge_segments([0, 5, 10], [10], CLOCK, 5, F(0), F(0)) == segs((10, 14))


def test_segment_times_end_at_end_of_last_frame():
    segment = Segment(30, 59)
    assert segment.start_time(CLOCK) == 1
    assert segment.end_time(CLOCK) == 2
    assert segment.duration(CLOCK) == 1


@pytest.mark.parametrize("segment, padding, expected", [
    (Segment(30, 59), F(0), (30, 59)),
    (Segment(30, 59), F(1, 2), (15, 74)),
    # padding that is not a whole number of frames rounds outwards
    (Segment(30, 59), F(1, 20), (28, 61)),
    # clamped at both ends of the video
    (Segment(5, 295), F(1), (0, 299)),
    (Segment(0, 0), F(10), (0, 299)),
])
def test_clip_frames(segment, padding, expected):
    assert clip_frames(segment, CLOCK, padding) == expected


def face(distance, w=50):
    return Face(Box(0, 0, w, w), 0.9, None if distance is None else (distance,))


def test_frame_matches_on_its_best_face():
    frames = [
        FrameFaces(0, ()),
        FrameFaces(1, (face(0.8), face(0.5))),  # best face matches
        FrameFaces(2, (face(0.61),)),
        FrameFaces(3, (face(0.6),)),  # threshold is inclusive
    ]
    found = match_frames(frames, 0.6)
    assert sorted(found) == [1, 3]
    assert found[1].face == face(0.5)


def test_merge_on_variable_frame_rate():
    # 30 fps for 1 s then 25 fps for 1 s: the gap rule uses real times
    starts = [F(i, 30) for i in range(30)] + [1 + F(i, 25) for i in range(25)]
    clock = FrameClock.from_timestamps(starts, F(1, 25), None)
    # frames 28 (30 fps) and 31 (25 fps): gap = start(31) - end(28) = 1.04 - 0.9666 = 0.0733 s
    every = list(range(55))
    assert merge_segments(every, [28, 31], clock, 1, F(1, 10), F(0)) == segs((28, 31))
    assert merge_segments(every, [28, 31], clock, 1, F(7, 100), F(0)) == segs((28, 28), (31, 31))


@pytest.mark.parametrize("analysed, matched, frames, interval, reach, expected", [
    # the reach looks past the analysed misses 10 (end side) and 0 (start side), and
    # ends on an analysed frame (15), never between two
    (range(0, 25, 5), [5], 25, 5, 7, [(1, 5), (6, 10), (11, 15)]),
    # a reach shorter than the interval changes nothing
    (range(0, 25, 5), [5], 25, 5, 2, [(1, 5), (6, 10)]),
    # the reach stops at the end of the video and never enters undecoded holes
    ([0, 5, 10, 40], [5], 41, 5, 20, [(1, 5), (6, 10), (11, 15)]),
    # dense analysis with unreliable frames left out (interval = full-search period 3)
    ([0, 3, 4, 5, 6, 9], [4, 5, 6], 10, 3, 0, [(7, 9)]),  # 3 is a reliable miss
])
def test_edges_to_refine_with_reach(analysed, matched, frames, interval, reach, expected):
    assert edges_to_refine(list(analysed), matched, frames, interval, reach) == expected


def test_reach_recovers_a_tail_the_sampled_pass_lost():
    """The person is on 13..39, but the detector loses him on frame 35 (the last
    sampled frame before he goes), as it did on the 720p benchmark montage.
    Analysing every frame bridges that one-frame hole (min_gap); the sampled pass
    with a reach of min_gap's frames gives the same segment."""
    truth = set(range(13, 40)) - {35}
    min_gap = F(1, 2)
    every = list(range(300))
    dense = merge_segments(every, [f for f in every if f in truth], CLOCK, 1, min_gap, F(0))
    assert dense == segs((13, 39))
    sparse = list(range(0, 300, 5))
    hits = [f for f in sparse if f in truth]
    without = edges_to_refine(sparse, hits, 300, 5)
    assert _refined_segments(sparse, without, truth, min_gap) == segs((13, 34))  # cut short
    with_reach = edges_to_refine(sparse, hits, 300, 5, reach=15)
    assert _refined_segments(sparse, with_reach, truth, min_gap) == dense


def _refined_segments(sparse, ranges, truth, min_gap):
    looked = sorted(set(sparse) | {f for a, b in ranges for f in range(a, b)})
    return merge_segments(looked, [f for f in looked if f in truth], CLOCK, 5, min_gap, F(0))


def test_reach_ends_on_an_analysed_frame():
    """Every 10th frame, the person on 100..117, the detector losing him on sample 110:
    the refined tail must reach sample 120, or frame 115 (refined, a hit) would stand
    for the unseen 116..119 and the segment would end late."""
    truth = set(range(100, 118))
    sparse = list(range(0, 300, 10))
    hits = [f for f in sparse if f in truth and f != 110]
    ranges = edges_to_refine(sparse, hits, 300, 10, reach=15)
    looked = sorted(set(sparse) | {f for a, b in ranges for f in range(a, b)})
    matched = [f for f in looked if f in truth and f != 110]
    assert merge_segments(looked, matched, CLOCK, 10, F(1, 2), F(0)) == segs((100, 117))


@pytest.mark.parametrize("partial, matched, within, expected", [
    # frame 4 (near search only) lost the face between matches 3 and 5; 7 and 8 come
    # after the last match: an edge, which edges_to_refine searches up to the next
    # whole-frame search
    ([1, 2, 4, 7, 8], [0, 3, 5, 6], 3, [1, 2, 4]),
    ([20, 40], [10, 30, 50], 10, [20, 40]),  # between matches, each within reach
    ([20], [10, 31], 10, []),  # the next match is too far: an edge, not a loss
    ([10, 11], [0, 3], 3, []),  # far from any match: a real absence is not re-searched
    ([4], [4], 3, []),  # matched: nothing lost
    ([5], [3], 1, []),
])
def test_lost_near_matches(partial, matched, within, expected):
    assert lost_near_matches(partial, set(matched), within) == expected


def test_frame_ranges():
    assert frame_ranges([7, 3, 4, 5, 9, 4]) == [(3, 6), (7, 8), (9, 10)]
    assert frame_ranges([]) == []


@pytest.mark.parametrize("segments, padding, expected", [
    ([], 0, []),
    ([(10, 19)], 0, [(10, 19)]),
    ([(40, 49), (10, 19)], 0, [(10, 19), (40, 49)]),  # time order
    ([(10, 19), (20, 29)], 0, [(10, 29)]),  # touching: one range
    ([(10, 19), (25, 29)], Fraction(1, 10), [(7, 32)]),  # padding makes them overlap
    ([(10, 19), (40, 49)], Fraction(1, 10), [(7, 22), (37, 52)]),
    ([(0, 5), (95, 99)], Fraction(1), [(0, 35), (65, 99)]),  # clamped to the video
])
def test_supercut_ranges(segments, padding, expected):
    from facecut.segments import supercut_ranges

    clock = FrameClock.constant(100, Fraction(30))
    found = supercut_ranges([Segment(a, b) for a, b in segments], clock, Fraction(padding))
    assert found == expected
