"""People found with no photo (pure): tracks from chunk results, the labellers before
and after grouping, the faces kept as photos, people.json, the results folder's
new files, and the command line's rules."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facecut.analysis import ChunkResult, by_anyone, by_groups, video_tracks
from facecut.cli import build_config, build_parser
from facecut.config import DiscoverySettings, ReferenceSet, ScanSettings
from facecut.discovery import (PHOTOS_PER_PERSON, batch_people_document, best_faces, largest_faces,
                               people_document, placed, tracks)
from facecut.errors import UsageError
from facecut.output import existing_results, is_result_folder
from facecut.planning import Chunk
from facecut.presets import LINK_DISTANCE
from facecut.segments import Box, Face, FrameFaces

SCAN = ScanSettings(model="Dlib", detector="blazeface", detect_size=640, interval=1,
                    metric="euclidean", model_threshold=0.5)
SETTINGS = DiscoverySettings(link_distance=0.475)  # min_frames 3, min_face 24


def face(track, x=0, w=50, confidence=0.9):
    return Face(Box(x, 0, w, w), confidence, (), track)


def e(value):
    return np.array([value, 0.0])


# ------------------------------------------------------------------ tracks


def test_tracks_join_pieces_and_keep_their_embeddings_width_and_clearest_face():
    frames = [FrameFaces(0, (face(1, w=40),)), FrameFaces(1, (face(1, w=60, confidence=0.99),)),
              FrameFaces(2, (face(7, w=50), face(9, x=300, w=20))),
              FrameFaces(3, (face(7, w=50),))]
    ends = {1: (e(0.0), e(0.1)), 7: (e(0.2), e(0.3)), 9: (e(5.0), e(5.0))}
    found = {t.id: t for t in tracks(frames, ends, {7: 1})}  # piece 7 continues track 1
    assert sorted(found) == [1, 9]
    one = found[1]
    assert one.frames == (0, 1, 2, 3)
    assert one.embeddings.tolist() == [[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [0.3, 0.0]]
    assert one.face_width == 50  # median of 40, 60, 50, 50
    assert one.clearest == (1, frames[1].faces[0])  # the largest and surest
    assert found[9].frames == (2,) and found[9].face_width == 20


def test_only_long_enough_and_large_enough_tracks_are_placed():
    frames = [FrameFaces(i, (face(1), face(2, x=200, w=20), face(3, x=400)))
              for i in range(3)] + [FrameFaces(3, (face(4, x=600),))]
    ends = {t: (e(t), e(t)) for t in (1, 2, 3, 4)}
    kept = {t.id for t in placed(tracks(frames, ends, {}), SETTINGS)}
    assert kept == {1, 3}  # 2's face is 20 px (< 24); 4 is seen on 1 frame (< 3)


def test_largest_faces_keeps_each_owners_largest_face_a_frame():
    frames = [FrameFaces(0, (face(1, w=30), face(2, x=200, w=80), face(3, x=400, w=60))),
              FrameFaces(1, (face(3, w=90),)),
              FrameFaces(2, ())]
    found = largest_faces(frames, {3: 1}, {1: 1, 2: 2})  # piece 3 continues track 1
    assert {t: {f: (m.face.box.w, m.track, m.by) for f, m in frames.items()}
            for t, frames in found.items()} == {
        1: {0: (60, 1, "track"), 1: (90, 1, "track")}, 2: {0: (80, 2, "track")}}


# ------------------------------------------------------------------ labellers


def two_chunks():
    """Person A on track 1 (chunk 0) continuing as track 1_000_001 (chunk 1); person B
    on track 1_000_002 in chunk 1 only, 10 frames; a 2-frame track 5 (unplaceable)."""
    first = ChunkResult(Chunk(0, 0, 10, 1), tuple(
        FrameFaces(i, (face(1),) + ((face(5, x=300),) if i < 2 else ())) for i in range(10)),
        10, {1: (e(0.0), e(0.0)), 5: (e(9.0), e(9.0))})
    second = ChunkResult(Chunk(1, 10, 20, 1), tuple(
        FrameFaces(i, (face(1_000_001), face(1_000_002, x=200))) for i in range(10, 20)),
        10, {1_000_001: (e(0.1), e(0.1)), 1_000_002: (e(3.0), e(3.0))})
    return [first, second]


def test_before_grouping_each_placeable_track_is_labelled_alone():
    """Each placeable track is a "person" of its own, so refinement finds every
    track's edges, even where one track hands over to another."""
    by_track = by_anyone(SCAN, 0.5, SETTINGS)(two_chunks())
    assert [sorted(frames) for frames in by_track] == [list(range(20)), list(range(10, 20))]
    assert [{m.track for m in frames.values()} for frames in by_track] == [{1}, {1_000_002}]


def test_after_grouping_each_person_is_their_tracks():
    results = two_chunks()
    found, joined = video_tracks(results, SCAN, 0.5)
    assert joined[1_000_001] == 1  # the boundary's pieces are one track
    a, b = by_groups([(1,), (1_000_002,)], joined)(results)
    assert sorted(a) == list(range(20)) and sorted(b) == list(range(10, 20))
    assert {m.face.box.x for m in b.values()} == {200}


# ------------------------------------------------------------------ photos and people.json


def test_best_faces_are_one_per_track_clearest_first():
    frames = [FrameFaces(i, (face(t, x=100 * t, w=w),)) for i, (t, w) in
              enumerate([(1, 40), (1, 90), (2, 60), (3, 30), (4, 70)])]
    found = {t.id: t for t in tracks(frames, {}, {})}
    best = best_faces(found, [1, 2, 3, 4])
    assert [(frame, f.box.w) for frame, f in best] == [(1, 90), (4, 70), (2, 60)]
    assert len(best) == PHOTOS_PER_PERSON


def test_people_json_lists_each_person_and_the_unsorted():
    frames = [FrameFaces(i, (face(1), face(2, x=200))) for i in range(4)]
    found = {t.id: t for t in tracks(frames, {}, {})}
    video = {"path": "/v.mp4", "fps_rational": "30/1", "frame_count": 4, "duration": 0.133,
             "width": 9}
    people = [{"name": "person_1", "seconds_on_screen": 0.133, "segments": 1,
               "face": "people/person_1.jpg"}]
    doc = people_document(video, people, found, [(1,)], [1], (2,), {"link_distance": 0.5})
    json.dumps(doc)
    assert doc["video"] == {"path": "/v.mp4", "fps_rational": "30/1", "frame_count": 4,
                            "duration": 0.133}
    assert doc["people"] == [{"id": 1, "name": "person_1", "face": "people/person_1.jpg",
                              "photos": "people/person_1/", "seconds_on_screen": 0.133,
                              "appearances": 1, "frames_analysed": 4, "tracks": [1]}]
    assert doc["unsorted"] == {"tracks": [2], "frames_analysed": 4}


def test_a_batch_lists_each_person_once_with_every_video_they_are_in():
    def video(*people):
        return {"people": [{"id": n, "name": f"person_{n}", "face": f"people/person_{n}.jpg",
                            "appearances": a, "seconds_on_screen": s} for n, a, s in people]}
    doc = batch_people_document([("a.mp4", "R/a", video((1, 2, 5.0), (3, 1, 1.0))),
                                 ("b.mp4", "R/b", video((1, 1, 2.5), (2, 4, 9.0)))])
    assert [(p["id"], p["seconds_on_screen"], [v["video"] for v in p["videos"]])
            for p in doc["people"]] == [(1, 7.5, ["a.mp4", "b.mp4"]), (2, 9.0, ["b.mp4"]),
                                        (3, 1.0, ["a.mp4"])]
    assert doc["people"][0]["videos"][1]["face"] == "R/b/people/person_1.jpg"


# ------------------------------------------------------------------ the results folder


def test_earlier_people_and_person_folders_are_results(tmp_path: Path):
    (tmp_path / "people" / "person_1").mkdir(parents=True)
    (tmp_path / "people" / "person_1.jpg").write_bytes(b"x")
    (tmp_path / "people" / "person_1" / "face_1.jpg").write_bytes(b"x")
    for folder in ("host", "keep"):  # keep/: the user set a clip aside
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clip_1.mp4").write_bytes(b"x")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_bytes(b"x")
    (tmp_path / "thumb_host_2.jpg").write_bytes(b"x")
    # only what the earlier run's own files name is its: nothing, before they exist
    assert [p.name for p in existing_results(tmp_path)] == ["thumb_host_2.jpg"]
    (tmp_path / "people.json").write_text("{}")
    (tmp_path / "metadata.json").write_text(json.dumps(
        {"people": [{"name": "host", "folder": "host"}, {"name": "notes", "folder": "notes"}]}))
    assert is_result_folder(tmp_path / "people") and is_result_folder(tmp_path / "host")
    assert not is_result_folder(tmp_path / "notes")  # named, but holds the user's file
    assert [p.name for p in existing_results(tmp_path)] == [
        "host", "metadata.json", "people", "people.json", "thumb_host_2.jpg"]
    # a photo a new run reads is never moved, nor the folder that holds it
    protect = (tmp_path / "people" / "person_1" / "face_1.jpg",)
    assert [p.name for p in existing_results(tmp_path, protect)] == [
        "host", "metadata.json", "people.json", "thumb_host_2.jpg"]


# ------------------------------------------------------------------ the command line


def config_of(*extra: str, people=()):
    arguments = build_parser().parse_args(["--video", "v.mp4", *extra])
    return build_config(arguments, list(people))


def test_no_reference_means_finding_people_at_the_measured_link_distance():
    assert config_of().discovery == DiscoverySettings(link_distance=LINK_DISTANCE)
    assert config_of("--speed").discovery.link_distance == LINK_DISTANCE == 0.475
    chosen = config_of("--people", "--person", "3", "--person", "1", "--person", "3",
                       "--link-distance", "0.4").discovery
    assert (chosen.link_distance, chosen.selected) == (0.4, (1, 3))
    assert config_of(people=[ReferenceSet("a", ("a.jpg",))]).discovery is None


@pytest.mark.parametrize("extra, says", [
    (("--people",), "give one or the other"),
    (("--person", "1"), "--person picks a person found with no photo"),
    (("--link-distance", "0.5"), "--link-distance groups faces into people when there is no"),
])
def test_photo_and_no_photo_flags_do_not_mix(extra, says):
    with pytest.raises(UsageError, match=says):
        config_of(*extra, people=[ReferenceSet("a", ("a.jpg",))])


def test_calibrating_needs_a_photo():
    with pytest.raises(UsageError, match="--calibrate measures faces against a photo"):
        config_of("--calibrate")


def test_a_supercut_with_no_photo_needs_someone_to_cut():
    with pytest.raises(UsageError, match="add --person N"):
        config_of("--supercut")
    assert config_of("--supercut", "--person", "2").output.supercut


@pytest.mark.parametrize("flag, value", [("--person", "0"), ("--person", "x"),
                                         ("--link-distance", "0"), ("--link-distance", "-1")])
def test_bad_numbers_are_refused_by_the_parser(flag, value, capsys):
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["--video", "v.mp4", flag, value])
    assert stopped.value.code == 2
    assert flag in capsys.readouterr().err
