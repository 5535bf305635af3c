"""Several named people in one scan (pure): parsing --reference NAME=PATH, each face's
distance to each person, one face to one person, the tracker's verdict, and the
metadata's people."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from facecut.config import ReferenceSet, ScanSettings
from facecut.embeddings import Gallery
from facecut.errors import UsageError
from facecut.inputs import reference_sets
from facecut.metadata import on_screen
from facecut.segments import Box, Face, FrameFaces, Segment, match_people
from facecut.timecode import FrameClock

THRESHOLD = 0.5
LEFT, RIGHT = Box(0, 0, 50, 50), Box(200, 0, 50, 50)


def face(distances, track=-1, box=LEFT):
    return Face(box, 0.9, None if distances is None else tuple(distances), track)


# ------------------------------------------------------------------ --reference


@pytest.fixture
def photos(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("host.jpg", "guest1.jpg", "guest2.jpg", "a=b.jpg"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "crew").mkdir()
    for name in ("c1.jpg", "c2.png"):
        (tmp_path / "crew" / name).write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize("arguments, expected", [
    # today's meaning: bare paths are one person, named by the first file
    (["host.jpg"], [("host", ("host.jpg",))]),
    (["guest1.jpg", "guest2.jpg"], [("guest1", ("guest1.jpg", "guest2.jpg"))]),
    (["crew"], [("crew", ("crew/c1.jpg", "crew/c2.png"))]),
    # named people, in the order given, several photos after a comma
    (["host=host.jpg", "guest=guest1.jpg,guest2.jpg"],
     [("host", ("host.jpg",)), ("guest", ("guest1.jpg", "guest2.jpg"))]),
    (["team=crew", "host=host.jpg"],
     [("team", ("crew/c1.jpg", "crew/c2.png")), ("host", ("host.jpg",))]),
    # named and bare together: the bare ones are one more person, after the named
    (["guest=guest1.jpg", "host.jpg"], [("guest", ("guest1.jpg",)), ("host", ("host.jpg",))]),
    # a file whose name holds "=" is a file
    (["a=b.jpg"], [("a_b", ("a=b.jpg",))]),
])
def test_reference_arguments_name_the_people(photos, arguments, expected):
    people = reference_sets(arguments)
    assert [(p.name, tuple(f.replace("\\", "/") for f in p.photos)) for p in people] == expected


@pytest.mark.parametrize("arguments, says", [
    (["host=host.jpg", "host=guest1.jpg"], "two people are named 'host'"),
    (["Host=host.jpg", "host=guest1.jpg"], "two people are named 'host'"),
    (["host=host.jpg", "guest=host.jpg"], "a photo of both 'host' and 'guest'"),
    (["host.jpg", "host=guest1.jpg"], "two people are named 'host'"),
    (["ho st=host.jpg"], "cannot name a person"),
    ([".hidden=host.jpg"], "cannot name a person"),
    (["host="], "no photo after '='"),
    (["index.html=host.jpg"], "'index.html' is the name of a file or folder facecut writes"),
    (["People=host.jpg"], "'People' is the name of a file or folder facecut writes"),
    (["clip_2.mp4=host.jpg"], "'clip_2.mp4' is the name of a file or folder facecut writes"),
    (["host=,"], "no photo after '='"),
])
def test_bad_reference_arguments_say_what_to_do(photos, arguments, says):
    with pytest.raises(UsageError, match=says.replace("(", r"\(")):
        reference_sets(arguments)


def test_folder_paths_in_named_references_expand(photos):
    [team] = reference_sets(["team=crew,host.jpg"])
    assert [p.replace("\\", "/") for p in team.photos] == ["crew/c1.jpg", "crew/c2.png", "host.jpg"]


# ------------------------------------------------------------------ distances


def test_a_face_is_as_far_from_a_person_as_from_their_closest_photo():
    gallery = Gallery(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]), (0, 1, 0))
    assert gallery.people == 2
    assert gallery.distances(np.array([0.0, 2.0]), "euclidean") == pytest.approx((1.0, 5 ** 0.5))
    assert Gallery(np.zeros((0, 0)), ()).distances(np.zeros(2), "euclidean") == ()


def test_a_face_knows_its_nearest_person():
    assert face((0.6, 0.3, 0.4)).nearest() == 1
    assert face((0.6, 0.3, 0.4)).distance == 0.3
    assert face(None).nearest() is None and face(None).distance is None


# ------------------------------------------------------------------ one face, one person


def frames_of(*faces_per_frame):
    return [FrameFaces(i, tuple(faces)) for i, faces in enumerate(faces_per_frame)]


def who(found):
    """Per person: frame -> (face box x, how)."""
    return [{frame: (m.face.box.x, m.by) for frame, m in person.items()} for person in found]


def test_look_alikes_side_by_side_each_keep_their_own_face():
    # A at left is nearer A; B at right is nearer B; both within the threshold of both
    frames = frames_of([face((0.30, 0.45), box=LEFT), face((0.44, 0.35), box=RIGHT)])
    assert who(match_people(frames, 2, THRESHOLD)) == [{0: (0, "self")}, {0: (200, "self")}]


def test_a_face_is_never_two_people():
    # one face, within the threshold of both: only the nearer person gets it
    frames = frames_of([face((0.40, 0.30))])
    assert who(match_people(frames, 2, THRESHOLD)) == [{}, {0: (0, "self")}]


def test_look_alikes_both_nearest_one_person_still_each_keep_a_face():
    # both faces are nearest A; A keeps the nearer (left), and B, within the threshold
    # of the right one, keeps that: pairs are made one to one, best pair first
    frames = frames_of([face((0.30, 0.35), box=LEFT), face((0.32, 0.33), box=RIGHT)])
    assert who(match_people(frames, 2, THRESHOLD)) == [{0: (0, "self")}, {0: (200, "self")}]
    frames = frames_of([face((0.30, 0.48), box=LEFT), face((0.35, 0.45), box=RIGHT)])
    assert who(match_people(frames, 2, THRESHOLD)) == [{0: (0, "self")}, {0: (200, "self")}]


def test_a_face_within_nobodys_threshold_but_a_second_persons_goes_to_them():
    # the right face is 0.6 from A (over the threshold), 0.45 from B
    frames = frames_of([face((0.30, 0.40), box=LEFT), face((0.60, 0.45), box=RIGHT)])
    assert who(match_people(frames, 2, THRESHOLD)) == [{0: (0, "self")}, {0: (200, "self")}]


def test_nobody_within_the_threshold_is_nobody():
    frames = frames_of([face((0.6, 0.7))], [])
    assert who(match_people(frames, 2, THRESHOLD)) == [{}, {}]


def test_tracks_go_to_their_nearest_person():
    # track 1 (left) is B's, track 2 (right) is A's; frame 1: neither embedded
    frames = frames_of(
        [face((0.45, 0.20), 1, LEFT), face((0.25, 0.6), 2, RIGHT)],
        [face(None, 1, LEFT), face(None, 2, RIGHT)],
    )
    tracks = [{1: 0.45, 2: 0.25}, {1: 0.20, 2: 0.6}]
    found = match_people(frames, 2, THRESHOLD, tracks)
    assert who(found) == [{0: (200, "self"), 1: (200, "track")},
                          {0: (0, "self"), 1: (0, "track")}]


def test_a_face_clearly_someone_else_is_vetoed_from_its_track():
    # the track is A's, but on frame 1 its face is 0.9 from A (above the veto)
    frames = frames_of([face((0.3, 0.9), 7)], [face((0.9, 0.95), 7)], [face(None, 7)])
    found = match_people(frames, 2, THRESHOLD, [{7: 0.3}, {7: 0.9}], veto=0.65)
    assert who(found) == [{0: (0, "self"), 2: (0, "track")}, {}]


def test_a_face_matched_by_itself_beats_one_matched_by_track():
    frames = frames_of([face((0.45,), 3, LEFT), face(None, 4, RIGHT)])
    found = match_people(frames, 1, THRESHOLD, [{3: 0.45, 4: 0.1}])
    assert who(found) == [{0: (0, "self")}]


# ------------------------------------------------------------------ verdicts


@pytest.mark.parametrize("distances, verdict", [
    ((0.2,), -1), ((0.9,), 1), ((0.5,), 0),
    ((0.2, 0.9), -1), ((0.9, 0.2), -2),  # clearly person 1 (of 0, 1): -(1 + 1)
    ((0.9, 0.8), 1),  # clearly nobody
    ((0.2, 0.5), 0),  # someone else matches at the model's threshold: not settled
    ((0.2, 0.51), -1),  # clearly person 0, and no one else would match
    ((0.5, 0.9), 0),  # near the threshold: not settled
    ((0.2, 0.3), 0),  # clearly both (look-alikes): not settled
    ((), 0),  # nobody searched
])
def test_verdict_settles_only_on_one_clear_person(distances, verdict):
    settings = ScanSettings(model="Dlib", detector="blazeface", detect_size=640, interval=1,
                            metric="euclidean", model_threshold=0.5)
    assert settings.verdict(distances) == verdict


# ------------------------------------------------------------------ totals


def test_time_on_screen_counts_overlapping_people_once():
    clock = FrameClock.constant(100, Fraction(10))
    # frames 0-9 and 5-14 overlap: 15 frames of 0.1 s; 20-29 apart: 10 more
    assert on_screen([Segment(0, 9), Segment(5, 14), Segment(20, 29)], clock) == Fraction(25, 10)
    assert on_screen([], clock) == 0


def test_config_lists_every_photo_with_its_owner():
    from facecut.cli import build_config, build_parser

    people = (ReferenceSet("host", ("h.jpg",)), ReferenceSet("guest", ("g1.jpg", "g2.jpg")))
    arguments = build_parser().parse_args(["--video", "v.mp4", "--reference", "x"])
    config = build_config(arguments, people)
    assert config.references == ("h.jpg", "g1.jpg", "g2.jpg")
