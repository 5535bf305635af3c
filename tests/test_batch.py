"""Many videos and several photos in one run, results for scripts (--json, exit codes),
--dry-run and the editors' cut lists, through the real CLI on ../shared/media."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

import montage as montage_builder
from conftest import run_cli

pytestmark = [pytest.mark.media]


def _json_lines(stdout: str) -> list[dict]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # stdout holds nothing but JSON lines


@pytest.mark.slow
def test_batch_of_videos_goes_on_past_a_bad_one(short_montage, reference, tmp_path):
    """A folder, a file of the same name elsewhere, a quoted glob and a broken file:
    every good video gets its own folder (names disambiguated), the broken one is
    reported and skipped, and the exit code says something failed."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    shutil.copy(short_montage.path, first / "show.mp4")
    shutil.copy(short_montage.path, second / "show.mp4")
    shutil.copy(montage_builder.CLIPS / "d18.mp4", second / "other.mp4")  # someone else
    (second / "broken.mp4").write_text("not a video\n")
    out = tmp_path / "results"
    result = run_cli("--video", str(first), str(second / "show.mp4"), str(second / "o*.mp4"),
                     str(second / "broken.mp4"), "--reference", str(reference), "--speed",
                     "--json", output=out)
    assert result.code == 2, result.stderr
    records = _json_lines(result.stdout)
    assert [(Path(r["video"]).name, r["status"]) for r in records] == [
        ("show.mp4", "found"), ("show.mp4", "found"), ("other.mp4", "not_found"),
        ("broken.mp4", "error")]
    assert [r["output"] for r in records[:3]] == [str(out / "show"), str(out / "show-2"),
                                                   str(out / "other")]
    assert records[0]["segments"] == 1 and records[0]["seconds_on_screen"] == pytest.approx(2.0, abs=0.04)
    assert "not a readable video" in records[3]["error"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.mp4" in errors[0]
    for folder in ("show", "show-2"):
        assert (out / folder / "clip_1.mp4").is_file()
    assert not list((out / "other").glob("clip_*.mp4"))


@pytest.mark.slow
def test_exit_code_without_errors_follows_grep(reference, tmp_path):
    """Nobody found in any video: exit 1; the line says so for each video."""
    clips = tmp_path / "in"
    clips.mkdir()
    for name in ("d18.mp4", "d20.mp4"):
        shutil.copy(montage_builder.CLIPS / name, clips / name)
    result = run_cli("--video", str(clips), "--reference", str(reference), "--speed",
                     "--json", output=tmp_path / "out")
    assert result.code == 1, result.stderr
    assert [r["status"] for r in _json_lines(result.stdout)] == ["not_found", "not_found"]


@pytest.mark.slow
def test_several_photos_closest_one_counts(short_montage, reference, tmp_path):
    """A folder of photos: each is listed in metadata; a face's distance is to the
    closest photo, so adding a photo of someone else changes nothing for the target,
    and a second photo of the target can only lower his distances."""
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(reference, photos / "a.png")
    montage_builder.reference_photo(photos / "b.png", at=12.5)  # just after the part used
    one = run_cli("--video", str(short_montage.path), "--reference", str(reference),
                  output=tmp_path / "one")
    both = run_cli("--video", str(short_montage.path), "--reference", str(photos),
                   output=tmp_path / "both")
    assert one.code == 0 and both.code == 0, both.stderr
    assert [Path(r["path"]).name for r in both.metadata["references"]] == ["a.png", "b.png"]
    assert all(r["embedding_source"] == "largest face in the photo"
               for r in both.metadata["references"])

    def distances(doc: dict) -> dict[int, float]:
        return {d["frame"]: d["distance"] for s in doc["segments"] for d in s["detections"]
                if d["distance"] is not None}

    single, closest = distances(one.metadata), distances(both.metadata)
    shared = set(single) & set(closest)
    # each appearance's track is embedded at least at its start and on the next due
    # frame (settled tracks are embedded rarely after that)
    assert len(shared) >= 2 * len(one.metadata["segments"])
    assert all(closest[f] <= single[f] + 1e-4 for f in shared)
    assert any(closest[f] < single[f] - 1e-3 for f in shared)


@pytest.mark.slow
def test_dry_run_writes_metadata_and_cut_lists_but_no_clips(short_montage, reference, tmp_path):
    out = tmp_path / "out"
    result = run_cli("--video", str(short_montage.path), "--reference", str(reference),
                     "--speed", "--dry-run", output=out)
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["settings"]["cut"] == "none"
    assert [s["clip"] for s in doc["segments"]] == [None]
    assert not list(out.glob("clip_*.mp4"))
    [segment] = doc["segments"]
    rows = list(csv.DictReader((out / "segments.csv").open()))
    assert [(int(r["start_frame"]), int(r["end_frame"])) for r in rows] == \
        [(segment["start_frame"], segment["end_frame"])]
    # the EDL's source in point is the segment's first frame at 30 fps: frame 30 = 00:00:01:00
    edl = (out / "segments.edl").read_text().splitlines()
    assert edl[1] == "FCM: NON-DROP FRAME"
    [event] = [line for line in edl if line.startswith("001 ")]
    start, end = segment["start_frame"], segment["end_frame"] + 1
    assert event.split()[4:6] == [f"00:00:{start // 30:02d}:{start % 30:02d}",
                                  f"00:00:{end // 30:02d}:{end % 30:02d}"]
    assert "metadata.json in" in result.stdout and "clips" not in result.stdout


def test_folder_without_photos_is_a_usage_error(short_montage, tmp_path):
    empty = tmp_path / "photos"
    empty.mkdir()
    result = run_cli("--video", str(short_montage.path), "--reference", str(empty),
                     output=tmp_path / "out")
    assert result.code == 2
    assert "folder has no photo files" in result.stderr.strip().splitlines()[-1]
