"""End to end: two named people searched in one scan (--reference NAME=PHOTO twice), on a
montage of real people where they appear alone, side by side and not at all. Each
gets their own appearances, to the frame, with boxes where the layout puts them, and
their own clips in their own folder, with sound in sync."""
from __future__ import annotations

from pathlib import Path

import pytest

import montage as montage_builder
from checks import audio_offset, audio_streams, score, video_frame_count
from conftest import CliResult, run_cli
from montage import Part

pytestmark = [pytest.mark.slow, pytest.mark.media]

HOST, GUEST = montage_builder.TARGET, "d3.mp4"  # a man with glasses; a woman
PARTS = [
    Part((GUEST,), 0, 2, 30, False),
    Part((HOST,), 0, 3, 30, False),
    Part((), 0, 1, 30, False),
    Part((HOST, GUEST), 3, 2, 30, False),  # side by side: each keeps their own face
    Part(("d10.mp4",), 0, 2, 30, False),  # neither
    Part((GUEST,), 5, 2, 30, False),
]


def truth(montage: montage_builder.Montage, source: str) -> list[tuple[int, int]]:
    return montage.source_segments(source)


@pytest.fixture(scope="module")
def two_people(media_dir: Path) -> montage_builder.Montage:
    return montage_builder.build(PARTS, media_dir / "two-people.mp4")


@pytest.fixture(scope="module")
def photos(media_dir: Path) -> dict[str, Path]:
    # stills from moments the montage does not use (host 18.5 s, guest 10.5 s)
    return {"host": montage_builder.reference_photo(media_dir / "host.png", HOST, 18.5),
            "guest": montage_builder.reference_photo(media_dir / "guest.png", GUEST, 10.5)}


@pytest.fixture(scope="module")
def both_run(two_people, photos, tmp_path_factory) -> CliResult:
    out = tmp_path_factory.mktemp("named") / "results"
    return run_cli("--video", str(two_people.path), "--reference", f"host={photos['host']}",
                   "--reference", f"guest={photos['guest']}", "--num_processes", "2",
                   output=out)


def test_each_person_gets_their_own_appearances_to_the_frame(both_run, two_people):
    assert both_run.code == 0, both_run.stderr
    doc = both_run.metadata
    assert doc["schema_version"] == 4
    assert [p["name"] for p in doc["people"]] == ["host", "guest"]
    for name, source in (("host", HOST), ("guest", GUEST)):
        mine = [s for s in doc["segments"] if s["person"] == name]
        measured = score(mine, truth(two_people, source))
        assert measured.segments == measured.truth_segments, (name, mine)
        assert measured.f1 >= 0.98, (name, measured)
        assert measured.worst_boundary is not None and measured.worst_boundary <= 2, name
        [person] = [p for p in doc["people"] if p["name"] == name]
        assert person["segments"] == len(mine) and person["folder"] == name
        assert [s["index"] for s in mine] == list(range(1, len(mine) + 1))
    assert "host: 2 appearance(s)" in both_run.stdout, both_run.stdout
    assert "guest: 3 appearance(s)" in both_run.stdout, both_run.stdout


def test_side_by_side_each_keeps_their_own_face(both_run, two_people):
    """In the part where both are on screen, every host detection is in the left
    picture and every guest detection in the right one: one face is never two people,
    and neither takes the other's face."""
    assert both_run.code == 0, both_run.stderr
    doc = both_run.metadata
    both = 3  # PARTS index of the side-by-side part
    frames = two_people.part_frames(both)
    (left, right) = two_people.content_boxes(both)
    for name, (x0, y0, x1, y1) in (("host", left), ("guest", right)):
        detections = [d for s in doc["segments"] if s["person"] == name
                      for d in s["detections"] if d["frame"] in frames]
        assert len(detections) >= len(frames) // doc["settings"]["interval"] // 2, name
        for detection in detections:
            box = detection["box"]
            cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
            assert x0 <= cx < x1 and y0 <= cy < y1, (name, detection)


def test_each_person_has_their_clips_in_their_folder_with_sound(both_run, two_people):
    assert both_run.code == 0, both_run.stderr
    doc = both_run.metadata
    frame = 1 / 30
    for segment in doc["segments"]:
        clip = both_run.output / segment["clip"]
        assert segment["clip"] == f"{segment['person']}/clip_{segment['index']}.mp4"
        assert clip.is_file(), clip
        assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1
        assert audio_streams(clip) == 1
        offset = audio_offset(clip, two_people.path, segment["start_time"])
        assert abs(offset) <= frame, f"{clip}: audio off by {offset * 1000:.1f} ms"
    # nothing at the top but the shared files
    assert not list(both_run.output.glob("clip_*.mp4"))
    csv_people = {line.split(",")[0] for line in
                  (both_run.output / "segments.csv").read_text().splitlines()[1:]}
    assert csv_people == {"host", "guest"}


def test_a_person_never_on_screen_leaves_the_others_found(two_people, photos, tmp_path):
    """grep's rule: 0 if anyone is found. The montage is searched for someone who is
    never in it (a photo of Barack Obama) and for the guest: the guest is found, the
    other is not, and the run exits 0."""
    out = tmp_path / "results"
    result = run_cli("--video", str(two_people.path), "--reference",
                     f"nobody={montage_builder.PHOTOS / 'obama.jpg'}",
                     "--reference", f"guest={photos['guest']}", output=out)
    assert result.code == 0, result.stderr
    doc = result.metadata
    counts = {p["name"]: p["segments"] for p in doc["people"]}
    assert counts == {"nobody": 0, "guest": 3}, counts
    assert "nobody: not found" in result.stdout, result.stdout


def test_a_handover_between_samples_is_exact_for_both(photos, media_dir, tmp_path):
    """--speed analyses every 10th frame. The guest hands over to the host at frame 60
    and back at frame 135 (the host's part is 3 s at 25 fps): 135 lies between the
    samples 130 and 140, so someone is on screen at every sample and only each
    person's own edges show that frames 131-139 must be looked at. Both edges are
    exact, for both people."""
    handover = montage_builder.build([Part((GUEST,), 0, 2, 30, False),
                                      Part((HOST,), 0, 3, 25, False),
                                      Part((GUEST,), 5, 2, 30, False)],
                                     media_dir / "handover.mp4")
    result = run_cli("--video", str(handover.path), "--reference", f"host={photos['host']}",
                     "--reference", f"guest={photos['guest']}", "--speed", "--dry-run",
                     output=tmp_path / "out")
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["settings"]["interval"] == 10
    for name, source in (("host", HOST), ("guest", GUEST)):
        mine = [s for s in doc["segments"] if s["person"] == name]
        measured = score(mine, truth(handover, source))
        assert measured.segments == measured.truth_segments, (name, mine)
        assert measured.worst_boundary == 0, (name, [(s["start_frame"], s["end_frame"])
                                                     for s in mine])
