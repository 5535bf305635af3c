"""End to end with no photo: the real CLI finds the people of a montage of real people
by grouping their face tracks, writes people.json and their faces, cuts one person's
clips from the scan cache without scanning again, and gives the same person one
number across a batch."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import montage as montage_builder
from checks import score, video_frame_count
from conftest import CliResult, run_cli
from montage import Part
from test_named_people import GUEST, HOST, PARTS, truth

pytestmark = [pytest.mark.slow, pytest.mark.media]
OTHER = "d10.mp4"  # the third person of PARTS


@pytest.fixture(scope="module")
def three_people(media_dir: Path) -> montage_builder.Montage:
    return montage_builder.build(PARTS, media_dir / "two-people.mp4")


@pytest.fixture(scope="module")
def found(three_people, tmp_path_factory) -> CliResult:
    out = tmp_path_factory.mktemp("people") / "results"
    return run_cli("--video", str(three_people.path), "--num_processes", "2", output=out)


def person_of(doc: dict, montage: montage_builder.Montage) -> dict[str, str]:
    """Each found person's true source: the one whose frames their segments score
    best against (the test then checks how well)."""
    mine: dict[str, str] = {}
    for person in doc["people"]:
        segments = [s for s in doc["segments"] if s["person"] == person["name"]]
        mine[person["name"]] = max((HOST, GUEST, OTHER),
                                   key=lambda source: score(segments, truth(montage, source)).f1)
    return mine


def test_finds_each_person_once_with_their_appearances_and_no_clips(found, three_people):
    assert found.code == 0, found.stderr
    doc = found.metadata
    people = json.loads((found.output / "people.json").read_text())
    assert [p["name"] for p in people["people"]] == ["person_1", "person_2", "person_3"]
    # sorted by screen time: the guest (6 s), the host (5 s), the other (2 s)
    assert [p["seconds_on_screen"] for p in people["people"]] == [6.0, 5.0, 2.0]
    whose = person_of(doc, three_people)
    assert sorted(whose.values()) == sorted((HOST, GUEST, OTHER)), whose  # one each
    for name, source in whose.items():
        segments = [s for s in doc["segments"] if s["person"] == name]
        measured = score(segments, truth(three_people, source))
        assert measured.segments == measured.truth_segments, (name, source, segments)
        assert measured.worst_boundary is not None and measured.worst_boundary <= 2, name
        assert all(s["clip"] is None for s in segments)
    assert people["unsorted"]["frames_analysed"] <= 5, people["unsorted"]
    assert not list(found.output.rglob("clip_*.mp4"))
    # each person's face, and a reference set of them
    for person in people["people"]:
        assert (found.output / person["face"]).stat().st_size > 1000
        assert list((found.output / person["photos"]).glob("face_*.jpg"))
    assert "person_1: 3 appearance(s)" in found.stdout, found.stdout


def test_person_n_cuts_from_the_cache_without_scanning(found, three_people, tmp_path):
    """--person N on the results of the run above: every chunk comes from the scan
    cache (first pass and refinement alike), the segments are the same, and only that
    person's clips are cut, each with its segment's frames."""
    assert found.code == 0, found.stderr
    out = tmp_path / "results"
    shutil.copytree(found.output, out)
    cached = len(list(out.glob(".facecut-cache/*/chunk-*.json")) +
                 list(out.glob(".facecut-cache/*/refine-*.json")))
    whose = person_of(found.metadata, three_people)
    host = next(name for name, source in whose.items() if source == HOST)
    number = int(host.split("_")[1])
    again = run_cli("--video", str(three_people.path), "--person", str(number), "--overwrite",
                    output=out)
    assert again.code == 0, again.stderr
    doc = again.metadata
    assert doc["stats"]["chunks_from_cache"] == cached > 0, doc["stats"]
    assert "no frame scanned" in again.stderr
    before = [(s["person"], s["start_frame"], s["end_frame"]) for s in found.metadata["segments"]]
    assert [(s["person"], s["start_frame"], s["end_frame"]) for s in doc["segments"]] == before
    clips = sorted(p.relative_to(out).as_posix() for p in out.rglob("clip_*.mp4"))
    mine = [s for s in doc["segments"] if s["person"] == host]
    assert clips == [f"{host}/clip_{s['index']}.mp4" for s in mine]
    for segment in mine:
        assert video_frame_count(out / segment["clip"]) == (
            segment["end_frame"] - segment["start_frame"] + 1)


def test_a_person_number_never_found_is_one_clear_error(found, three_people, tmp_path):
    assert found.code == 0, found.stderr
    out = tmp_path / "results"
    shutil.copytree(found.output, out)
    result = run_cli("--video", str(three_people.path), "--person", "9", "--overwrite",
                     output=out)
    assert result.code == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --person 9: only 3 people were found (numbered by how much of the video "
        "shows them, in people.json); pick one of 1-3"), result.stderr
    # the earlier results are untouched
    assert json.loads((out / "metadata.json").read_text()) == found.metadata


def test_a_persons_faces_find_them_again_as_a_reference(found, three_people, tmp_path):
    """The faces saved for a person are a reference set: searching the video with them
    gives that person's appearances, as grouping found them."""
    assert found.code == 0, found.stderr
    whose = person_of(found.metadata, three_people)
    guest = next(name for name, source in whose.items() if source == GUEST)
    photos = found.output / "people" / guest
    result = run_cli("--video", str(three_people.path), "--reference", f"{guest}={photos}",
                     "--dry-run", output=tmp_path / "again")
    assert result.code == 0, result.stderr
    by_photo = [(s["start_frame"], s["end_frame"]) for s in result.metadata["segments"]]
    grouped = [(s["start_frame"], s["end_frame"]) for s in found.metadata["segments"]
               if s["person"] == guest]
    assert len(by_photo) == len(grouped) == 3
    for (a, b), (c, d) in zip(by_photo, grouped):
        assert abs(a - c) <= 2 and abs(b - d) <= 2, (by_photo, grouped)


def test_the_same_person_in_two_videos_gets_one_number(three_people, media_dir, tmp_path):
    second = montage_builder.build([Part(("d14.mp4",), 0, 2, 30, False),
                                    Part((HOST,), 10, 3, 30, False)],
                                   media_dir / "host-again.mp4")
    out = tmp_path / "batch"
    result = run_cli("--video", str(three_people.path), str(second.path),
                     "--num_processes", "2", output=out)
    assert result.code == 0, result.stderr
    batch = json.loads((out / "people.json").read_text())
    # 4 people: guest, host, the other woman (d10), and d14 in the second video only
    assert len(batch["people"]) == 4, batch
    in_both = [p for p in batch["people"] if len(p["videos"]) == 2]
    assert len(in_both) == 1, batch
    [host] = in_both
    first = json.loads((out / "two-people" / "metadata.json").read_text())
    again = json.loads((out / "host-again" / "metadata.json").read_text())
    for doc, montage in ((first, three_people), (again, second)):
        segments = [s for s in doc["segments"] if s["person"] == host["name"]]
        measured = score(segments, truth(montage, HOST))
        assert measured.segments == measured.truth_segments, (host, segments)
        assert measured.worst_boundary is not None and measured.worst_boundary <= 2
    # each video's people.json uses the batch's numbers
    for folder in ("two-people", "host-again"):
        names = {p["name"] for p in json.loads((out / folder / "people.json").read_text())[
            "people"]}
        assert host["name"] in names
    # the batch's own people.json is never replaced silently: refused before any scan
    again = run_cli("--video", str(three_people.path), str(second.path), output=out)
    assert again.code == 2, again.stderr
    assert "people.json: already exists" in again.stderr, again.stderr
