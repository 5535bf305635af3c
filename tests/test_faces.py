"""Detection near tracked faces agrees with detection over the whole frame."""
from __future__ import annotations

import pytest

from facecut.faces import FaceEngine, read_photo
from facecut.segments import Box
from facecut.tracking import iou

pytestmark = [pytest.mark.media]


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine("Dlib", "dlib", 640)


def test_a_tracked_face_is_found_again_near_its_box(engine, reference):
    frame = read_photo(str(reference))
    [whole] = engine.find_faces(frame)
    box = whole.box
    moved = Box(box.x + box.w // 5, box.y - box.h // 6, box.w, box.h)  # it moved a little
    for last in (box, moved):
        [near] = engine.find_faces_near(frame, [last])
        assert iou(near.box, box) > 0.6, (near.box, box)
        assert near.left_eye is not None and near.right_eye is not None
    # its embedding from the window's box matches the one from the whole-frame box
    same = engine.embed(frame, [whole, near])
    assert float(((same[0] - same[1]) ** 2).sum() ** 0.5) < 0.2


def test_no_face_near_an_empty_spot_and_no_duplicates(engine, reference):
    frame = read_photo(str(reference))
    [whole] = engine.find_faces(frame)
    box = whole.box
    corner = Box(0, 0, 40, 40)
    assert box.x > 120 or box.y > 120, box  # the window around the corner holds no face
    assert engine.find_faces_near(frame, [corner]) == []
    # two tracks whose windows hold the same face give it once
    assert len(engine.find_faces_near(frame, [box, Box(box.x + 4, box.y + 4, box.w, box.h)])) == 1
