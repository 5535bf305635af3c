"""End to end: the default preset finds a 40 px face in a 1080p frame, on the frames and
at the place it is shown, beside a large face and another small one (another man with
glasses, 48 px) that it never matches."""
from __future__ import annotations

from pathlib import Path

import ladder as ladder_builder
import montage as montage_builder
import pytest
from checks import video_frame_count
from conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.media]


@pytest.fixture(scope="module")
def small_face(media_dir: Path) -> ladder_builder.Ladder:
    return ladder_builder.build_small_face(media_dir / "small-face-40.mp4", face_width=40)


def test_default_preset_finds_a_40px_face_in_1080p_and_no_one_else(small_face, reference,
                                                                     tmp_path):
    result = run_cli("--video", str(small_face.path), "--reference", str(reference),
                     output=tmp_path / "out")
    assert result.code == 0, result.stderr
    doc = result.metadata
    [rung] = small_face.rungs
    [segment] = doc["segments"]
    # the edges within one frame of the truth (frames 30..89)
    assert abs(segment["start_frame"] - rung.first) <= 1
    assert abs(segment["end_frame"] - rung.last) <= 1
    # every matched face is the target's, where the ladder put it, about 40 px wide
    detections = segment["detections"]
    assert len(detections) >= (rung.last - rung.first) // doc["settings"]["interval"]
    for detection in detections:
        box = detection["box"]
        assert rung.face.contains(box["x"] + box["w"] / 2, box["y"] + box["h"] / 2), detection
        assert 28 <= box["w"] <= 56, detection
    others = [person.face for person in small_face.others]
    assert not any(face.contains(d["box"]["x"] + d["box"]["w"] / 2,
                                 d["box"]["y"] + d["box"]["h"] / 2)
                   for d in detections for face in others)
    clip = result.clips()[0]
    assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1


def test_without_tiles_the_40px_face_is_not_found(small_face, reference, tmp_path):
    """The same video with the tiled search turned down to faces of 200 px (the whole
    frame in one BlazeFace input): the target is missed, so the test above is about
    the tiles and not about an easy video."""
    result = run_cli("--video", str(small_face.path), "--reference", str(reference),
                     "--min-face", "200", output=tmp_path / "out")
    assert result.code == 1, result.stderr
    assert result.metadata["segments"] == []
    assert montage_builder.TARGET == "d9.mp4"  # the reference is of the ladder's target
