"""Recognition from a photo that is no frame of the video: slideshows of stills of
real people (../shared/media/photos), searched for with another photo of one of
them, through the real CLI. A still holds one picture for its whole part, so the
truth is exact to the frame: the person's parts, and nothing of anyone else's."""
from __future__ import annotations

import pytest

import montage as montage_builder
from checks import video_frame_count
from conftest import run_cli

pytestmark = [pytest.mark.media, pytest.mark.slow]

IDENTITIES = montage_builder.PHOTOS / "identities"
PHOTOS = montage_builder.PHOTOS

# (the slideshow: photo and whether it shows the person searched for; the reference)
SLIDESHOWS = {
    # identity group A (8 photos of one person) twice, with one photo each of groups
    # B, C and D between and after; searched for with a third photo of A
    "identity-A": ([(IDENTITIES / "img1.jpg", True), (IDENTITIES / "img3.jpg", False),
                    (IDENTITIES / "img2.jpg", True), (IDENTITIES / "img8.jpg", False),
                    (IDENTITIES / "img13.jpg", False)], IDENTITIES / "img4.jpg"),
    # two different photos of Barack Obama; Joe Biden and Alex Lacamoire beside
    "obama": ([(PHOTOS / "biden.jpg", False), (PHOTOS / "obama2.jpg", True),
               (PHOTOS / "alex-lacamoire.png", False)], PHOTOS / "obama.jpg"),
}


@pytest.mark.parametrize("name", sorted(SLIDESHOWS))
def test_another_photo_finds_exactly_that_persons_stills(name, media_dir, tmp_path):
    """Each still is held 1 s (30 frames; the parts are further apart than --min-gap,
    so each appearance is its own segment). Exactly the person's stills come out,
    each to the frame, with a clip of that many frames; nobody else's."""
    stills, photo = SLIDESHOWS[name]
    assert photo not in [path for path, _ in stills]  # the reference is no frame of it
    slideshow = montage_builder.build_stills(stills, media_dir / f"stills-{name}.mp4",
                                             seconds=1)
    truth = slideshow.target_segments()
    assert len(truth) == sum(target for _, target in stills)  # no two of them adjacent
    result = run_cli("--video", str(slideshow.path), "--reference", str(photo),
                     "--num_processes", "2", output=tmp_path / "out")
    assert result.code == 0, result.stderr
    doc = result.metadata
    found = [(s["start_frame"], s["end_frame"]) for s in doc["segments"]]
    print(f"\n{name}: segments {found}, truth {truth}; best distances "
          f"{[s['best_distance'] for s in doc['segments']]} (threshold "
          f"{doc['settings']['threshold']})")
    assert found == truth
    others = set(range(slideshow.frame_count)) - slideshow.target_frames()
    assert not {d["frame"] for s in doc["segments"] for d in s["detections"]} & others
    clips = result.clips()
    assert [clip.name for clip in clips] == [s["clip"] for s in doc["segments"]]
    for (first, last), clip in zip(truth, clips, strict=True):
        assert video_frame_count(clip) == last - first + 1, clip
