"""Face tracks over synthetic detections."""
from fractions import Fraction

import pytest

from facecut.segments import Box, Face, FrameFaces, merge_segments
from matching import match_frames
from facecut.timecode import FrameClock
from facecut.tracking import IDS_PER_CHUNK, Tracker, iou, join_tracks, track_distances


def box(x, y=50, size=100):
    return Box(x, y, size, size)


@pytest.mark.parametrize("a, b, expected", [
    (box(0), box(0), 1.0),
    (box(0), box(200), 0.0),
    (box(0), box(50), 50 * 100 / (2 * 100 * 100 - 50 * 100)),
])
def test_iou(a, b, expected):
    assert iou(a, b) == pytest.approx(expected)


def test_faces_that_move_a_little_keep_their_track():
    tracker = Tracker(embed_every=5)
    ids = [tracker.step(frame, [box(10 + 3 * frame)])[0] for frame in range(12)]
    assert len({a.track for a in ids}) == 1
    # embedded at the start, then when due (every 5 frames), not in between
    tracker2 = Tracker(embed_every=5)
    embeds = []
    for frame in range(12):
        [assignment] = tracker2.step(frame, [box(10 + 3 * frame)])
        embeds.append(assignment.embed)
        if assignment.embed:
            tracker2.embedded(assignment.track, frame, box(10 + 3 * frame))
    assert embeds == [True, False, False, False, False, True, False, False, False, False, True,
                      False]


def test_two_faces_two_tracks_and_a_scene_cut_ends_them():
    tracker = Tracker()
    first = tracker.step(0, [box(0), box(300)])
    second = tracker.step(1, [box(305), box(5)])  # listed in the other order
    assert [a.track for a in second] == [first[1].track, first[0].track]
    after_cut = tracker.step(2, [box(5), box(305)], cut=True)
    assert {a.track for a in after_cut}.isdisjoint({a.track for a in first})
    assert all(a.embed for a in after_cut)


def test_a_face_that_grows_is_embedded_again():
    tracker = Tracker(embed_every=100, area_change=0.3)
    [a] = tracker.step(0, [Box(0, 0, 100, 100)])
    tracker.embedded(a.track, 0, Box(0, 0, 100, 100))
    [b] = tracker.step(1, [Box(0, 0, 110, 110)])
    [c] = tracker.step(2, [Box(0, 0, 130, 130)])
    assert (b.embed, c.embed) == (False, True)


def test_lost_track_expires_after_max_gap():
    tracker = Tracker(max_gap=3)
    [a] = tracker.step(0, [box(0)])
    [b] = tracker.step(4, [box(0)])
    assert a.track != b.track


def test_split_starts_a_new_track():
    tracker = Tracker()
    [a] = tracker.step(0, [box(0)])
    new = tracker.split(a.track, 1, box(0))
    [b] = tracker.step(2, [box(0)])
    assert new != a.track and b.track == new


def frames_of(rows):
    """rows: (frame, [(x, distance or None, track)])"""
    return [FrameFaces(f, tuple(Face(box(x), 0.9, None if d is None else (d,), t) for x, d, t in faces)) for f, faces in rows]


def test_head_turn_frames_match_by_track():
    # one track: frontal (0.3), turned away (0.7 or not embedded), frontal again
    rows = [(f, [(0, 0.3 if f < 3 or f > 7 else (0.7 if f % 2 else None), 7)]) for f in range(10)]
    frames = frames_of(rows)
    joined = join_tracks(frames, lambda a, b: True)
    distances = track_distances(frames, joined)
    assert distances[7] == pytest.approx(0.3)
    matches = match_frames(frames, 0.5, distances, joined)
    assert sorted(matches) == list(range(10))
    assert [matches[f].by for f in range(10)] == ["self"] * 3 + ["track"] * 5 + ["self"] * 2
    # frame by frame alone, the turn splits the appearance in two
    alone = match_frames(frames, 0.5)
    clock = FrameClock.constant(10, Fraction(30))
    assert len(merge_segments(range(10), sorted(alone), clock, 1, Fraction(0), Fraction(0))) == 2
    assert len(merge_segments(range(10), sorted(matches), clock, 1, Fraction(0), Fraction(0))) == 1


def test_someone_elses_track_with_one_lucky_frame_does_not_match():
    rows = [(f, [(0, 0.45 if f == 4 else 0.65, 3)]) for f in range(10)]
    frames = frames_of(rows)
    joined = join_tracks(frames, lambda a, b: True)
    matches = match_frames(frames, 0.5, track_distances(frames, joined), joined)
    assert sorted(matches) == [4]  # that frame alone, by itself, not the whole track
    assert matches[4].by == "self"


def test_tracks_cut_by_a_chunk_boundary_are_joined():
    a, b = 0 * IDS_PER_CHUNK + 1, 1 * IDS_PER_CHUNK + 1
    rows = [(0, [(0, 0.3, a)]), (1, [(2, None, a)]), (2, [(4, 0.7, b)]), (3, [(6, None, b)]),
            (4, [(400, 0.8, b + 1)])]
    frames = frames_of(rows)
    joined = join_tracks(frames, lambda a, b: True)
    assert joined[a] == joined[b] != joined[b + 1]
    matches = match_frames(frames, 0.5, track_distances(frames, joined), joined)
    assert sorted(matches) == [0, 1, 2, 3]


def test_tracks_of_different_people_are_not_joined_across_a_boundary():
    a, b = 0 * IDS_PER_CHUNK + 1, 1 * IDS_PER_CHUNK + 1
    rows = [(0, [(0, 0.3, a)]), (1, [(2, None, a)]), (2, [(4, 0.9, b)]), (3, [(6, None, b)])]
    frames = frames_of(rows)
    joined = join_tracks(frames, lambda x, y: False)  # their embeddings disagree
    assert joined[a] != joined[b]
    matches = match_frames(frames, 0.5, track_distances(frames, joined), joined)
    assert sorted(matches) == [0, 1]


def test_joining_is_one_to_one():
    a = 1
    b, c = IDS_PER_CHUNK + 1, IDS_PER_CHUNK + 2
    rows = [(0, [(0, 0.3, a)]), (1, [(10, 0.9, b), (20, 0.9, c)])]  # both overlap a
    joined = join_tracks(frames_of(rows), lambda x, y: True)
    assert sum(1 for t in (b, c) if joined[t] == joined[a]) == 1


def test_veto_keeps_a_clearly_different_face_off_a_matching_track():
    rows = [(f, [(0, 0.3, 5)]) for f in range(4)] + [(4, [(0, 0.9, 5)])]
    frames = frames_of(rows)
    joined = join_tracks(frames, lambda x, y: True)
    distances = track_distances(frames, joined)
    assert 4 in match_frames(frames, 0.5, distances, joined)
    assert 4 not in match_frames(frames, 0.5, distances, joined, veto=0.65)


def test_live_boxes_are_the_tracks_a_face_could_still_continue():
    tracker = Tracker(max_gap=2)
    a, b = Box(0, 0, 10, 10), Box(50, 0, 10, 10)
    tracker.step(0, [a, b])
    tracker.step(1, [a])  # b not seen on frame 1
    assert tracker.live_boxes(2) == [a, b]
    assert tracker.live_boxes(3) == [a]  # b last seen on frame 0: more than 2 frames ago
    tracker.step(4, [], cut=True)
    assert tracker.live_boxes(4) == []


def test_a_settled_track_is_embedded_less_often():
    """Two embeddings in a row clearly on one side of the threshold settle a track:
    it is then embedded every `settled_embed_every` frames; a verdict near the
    threshold unsettles it again."""
    tracker = Tracker(embed_every=5, settled_embed_every=20)
    embedded = []
    verdicts = iter([-1, -1, -1, 0, -1, -1])
    for frame in range(80):
        [assignment] = tracker.step(frame, [box(10)])
        if assignment.embed:
            embedded.append(frame)
            tracker.embedded(assignment.track, frame, box(10), next(verdicts, -1))
    # 0 and 5 settle it; then every 20 until the near verdict at 45 (0), after
    # which every 5 again until two clear ones (50, 55) settle it once more
    assert embedded == [0, 5, 25, 45, 50, 55, 75]


@pytest.mark.parametrize("distance, verdict", [
    (0.2, -1), (0.34, -1), (0.36, 0), (0.5, 0), (0.64, 0), (0.66, 1), (0.9, 1),
])
def test_verdict_is_clear_only_far_from_the_threshold(distance, verdict):
    from facecut.config import ScanSettings

    settings = ScanSettings(model="Dlib", detector="blazeface", detect_size=640, interval=1,
                            metric="euclidean", model_threshold=0.5)
    assert settings.verdict((distance,)) == verdict
