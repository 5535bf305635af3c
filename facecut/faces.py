"""The DeepFace edge: model weights, face detection, alignment and embeddings.

Models are built once per process (DeepFace caches them) and reused for every frame.
Detection runs on a frame scaled down to a working size; alignment and embedding use
the full-resolution frame, so small working sizes cost little accuracy.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import blazeface, tiling
from .errors import ModelError, ReferencePhotoError
from .planning import Focus
from .segments import Box
from .tracking import iou

# Weights the face-recognition-models package ships (in its models/ folder), under
# the names DeepFace expects, so the default models never touch the network.
_SHIPPED_WEIGHTS = (
    "dlib_face_recognition_resnet_model_v1.dat",
    "shape_predictor_5_face_landmarks.dat",
)

# Distance metric and default threshold per recognizer. Dlib: Euclidean distance on
# descriptors of dlib-aligned face chips. 0.5, not dlib's customary 0.6, measured on
# the shared test people (docs/benchmarks.md, "Threshold"): at 0.6, 2.6% of other people's frames
# matched; at 0.5, none did and 97.5% of the person's own frames still matched.
# DeepFace's own Dlib default (cosine 0.07) misses most frontal frames.
# Other models use DeepFace's published cosine thresholds.
_EUCLIDEAN_MODELS = {"Dlib": 0.5}


def deepface_home() -> Path:
    """Where DeepFace looks for weights: $DEEPFACE_HOME, else a folder this tool owns
    (so it never mixes with, or writes into, a user's ~/.deepface)."""
    if os.environ.get("DEEPFACE_HOME"):
        return Path(os.environ["DEEPFACE_HOME"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = cache / "facecut" / "deepface"
    os.environ["DEEPFACE_HOME"] = str(home)
    return home


def weights_dir() -> Path:
    return deepface_home() / ".deepface" / "weights"


def install_shipped_weights() -> None:
    """Copy dlib's weights from the face-recognition-models package to where
    DeepFace expects them, if they are not there yet. Atomic: a copy is written to a
    temporary name and renamed, so an interrupted copy never looks complete."""
    target = weights_dir()
    missing = [name for name in _SHIPPED_WEIGHTS if not (target / name).is_file()]
    if not missing:
        return
    # Found without importing the package: its __init__ needs pkg_resources, which
    # recent setuptools no longer provides.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "face-recognition-models is not installed, so dlib's weights are missing: "
            "run `pip install face-recognition-models` (or `pip install -r requirements.txt`)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in missing:
            source = package_dir / "models" / name
            handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{name}.")
            os.close(handle)
            shutil.copyfile(source, temporary)
            os.replace(temporary, target / name)
    except OSError as error:
        raise ModelError(
            f"cannot install model weights into {target}: {error.strerror}; "
            "set DEEPFACE_HOME to a writable folder"
        ) from None


def default_threshold(model: str) -> tuple[str, float]:
    """(metric, threshold) for a recognizer."""
    if model in _EUCLIDEAN_MODELS:
        return "euclidean", _EUCLIDEAN_MODELS[model]
    from deepface.config.threshold import thresholds

    if model not in thresholds:
        raise ModelError(f"unknown model {model!r}; choose one of: {', '.join(sorted(thresholds))}")
    return "cosine", float(thresholds[model]["cosine"])


def _quiet_deepface() -> None:
    """DeepFace logs through print-like loggers; keep its chatter off our stderr."""
    os.environ.setdefault("DEEPFACE_LOG_LEVEL", str(logging.ERROR))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _build(model_name: str, task: str) -> Any:
    """Build a DeepFace model, turning its many failure modes into one clear line."""
    _quiet_deepface()
    from deepface import DeepFace

    try:
        return DeepFace.build_model(model_name=model_name, task=task)
    except ImportError as error:
        package = (
            "dlib" if "dlib" in str(error).lower() else str(getattr(error, "name", "") or error)
        )
        raise ModelError(
            f"{task.replace('_', ' ')} {model_name!r} needs the Python package "
            f"{package}: install it with `pip install {package}`"
        ) from None
    except Exception as error:  # noqa: BLE001 - DeepFace raises ValueError for downloads and names alike
        text = " ".join(str(error).split())
        if "download" in text.lower():
            target = weights_dir()
            file_name = (
                text.split("downloading ", 1)[-1].split(" from ", 1)[0]
                if "downloading " in text
                else "its weights file"
            )
            raise ModelError(
                f"{task.replace('_', ' ')} {model_name!r} needs {file_name}, which is not in "
                f"{target} and could not be downloaded (no network?): download it on a "
                f"connected machine and copy it to {target}"
            ) from None
        raise ModelError(f"cannot load {task.replace('_', ' ')} {model_name!r}: {text}") from None


_NEAR_BLAZEFACE = "blazeface-short-range"

# A tracked face is looked for again at about this size (pixels): dlib's HOG detector,
# which upsamples once, finds faces down to ~40 px, so 60 leaves room for the face to
# shrink between frames.
TRACKED_FACE_SIZE = 60


@dataclass(frozen=True)
class FoundFace:
    """A detected face in full-resolution frame coordinates."""

    box: Box
    confidence: float
    left_eye: tuple[float, float] | None
    right_eye: tuple[float, float] | None


@dataclass(frozen=True)
class ReferenceFace:
    embedding: np.ndarray
    box: Box
    faces_found: int
    other_faces: tuple[Box, ...]


class FaceEngine:
    """A detector and a recognizer, built once and used for many frames."""

    def __init__(self, model: str, detector: str, detect_size: int, min_face: int = 0) -> None:
        self.model_name = model
        self.detector_name = detector
        self.detect_size = detect_size
        self.min_face = min_face
        # BlazeFace's search plans by (width, height, smallest face): a video has one
        # frame size, and refinement windows a few
        self._plans: dict[tuple[int, int, float], tiling.SearchPlan] = {}
        install_shipped_weights()
        self.recognizer = _build(model, "facial_recognition")
        # Detectors are built at first use: a process that only embeds photos never
        # loads the frame detector, and only one worker embeds the photos.
        self._detectors: dict[str, Any] = {}
        # a detector that resizes its input itself is given the image as it is
        self.sizes_itself = detector == blazeface.NAME
        self.input_shape = tuple(getattr(self.recognizer, "input_shape", (150, 150)))
        # dlib's ResNet was trained on chips aligned by its 5-point landmarks; feeding it
        # those (instead of DeepFace's eye-levelled box crop) separates people better.
        self.landmarks = _dlib_landmarks() if model == "Dlib" else None

    # ------------------------------------------------------------ detection
    def _detector(self, name: str) -> Any:
        if name not in self._detectors:
            if name == blazeface.NAME:
                self._detectors[name] = blazeface.BlazeFaceDetector(blazeface.FULL_RANGE)
            elif name == _NEAR_BLAZEFACE:
                self._detectors[name] = blazeface.BlazeFaceDetector(blazeface.SHORT_RANGE)
            else:
                self._detectors[name] = _build(name, "face_detector")
        return self._detectors[name]

    @property
    def near_detector(self) -> Any:
        """The detector for the window around a tracked face: with BlazeFace, its
        short-range model, made for faces that fill a good part of the picture."""
        return self._detector(_NEAR_BLAZEFACE if self.sizes_itself else self.detector_name)

    @property
    def detector(self) -> Any:
        """The detector for video frames."""
        return self._detector(self.detector_name)

    @property
    def photo_detector(self) -> Any:
        """The detector for reference photos. BlazeFace sees a 192x192 picture of the
        whole image: fine for frames, but a photo may show its face small, and photos
        are few, so with BlazeFace they get dlib's HOG at up to 1600 px (the chip is
        cut the same way whichever detector found the face)."""
        return self._detector("dlib" if self.sizes_itself else self.detector_name)

    def find_faces(self, frame: np.ndarray, detect_size: int | None = None) -> list[FoundFace]:
        """Detect faces on a copy of `frame` whose longer side is at most
        `detect_size` pixels; return boxes and eyes in `frame`'s own pixels."""
        height, width = frame.shape[:2]
        if self.sizes_itself:
            # BlazeFace: the whole frame at every level its smallest face needs
            plan = self._plan(width, height, tiling.frame_face(self.min_face, width, height))
            return self._found(self.detector.search(frame, plan), 1.0, 0, 0, frame.shape)
        limit = detect_size or self.detect_size
        scale = min(1.0, limit / max(height, width)) if limit > 0 else 1.0
        return self._detect(frame, scale, 0, 0, frame.shape, self.detector)

    def find_faces_in(self, frame: np.ndarray, focus: Focus) -> list[FoundFace]:
        """BlazeFace: faces inside the focus region, down to its smallest size (and
        never below the smallest face of a whole-frame search). Other detectors
        search the whole frame, as find_faces does."""
        if not self.sizes_itself:
            return self.find_faces(frame)
        height, width = frame.shape[:2]
        smallest = float(focus.smallest)
        if self.min_face > 0:
            smallest = max(smallest, tiling.frame_face(self.min_face, width, height))
        window = frame[focus.y : focus.y + focus.h, focus.x : focus.x + focus.w]
        plan = self._plan(window.shape[1], window.shape[0], round(smallest))
        return self._found(self.detector.search(window, plan), 1.0, focus.x, focus.y, frame.shape)

    def _plan(self, width: int, height: int, smallest: float) -> tiling.SearchPlan:
        """The search plan for faces down to `smallest` px in a width x height image,
        made once."""
        key = (width, height, smallest)
        if key not in self._plans:
            self._plans[key] = tiling.plan_for_face(width, height, smallest)
        return self._plans[key]

    def find_faces_near(self, frame: np.ndarray, boxes: Sequence[Box]) -> list[FoundFace]:
        """Look for each tracked face again in a window around its last box, three
        times its size, scaled so the face is about TRACKED_FACE_SIZE pixels: a
        fraction of the cost of searching the whole frame. At most one face per box
        (the one overlapping it most); new faces are left to full detections."""
        height, width = frame.shape[:2]
        found: list[FoundFace] = []
        for box in boxes:
            side = max(box.w, box.h, 1)
            x0, y0 = max(0, box.x - side), max(0, box.y - side)
            x1, y1 = min(width, box.x + box.w + side), min(height, box.y + box.h + side)
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            window = frame[y0:y1, x0:x1]
            scale = 1.0 if self.sizes_itself else min(1.0, TRACKED_FACE_SIZE / side)
            near = self._detect(window, scale, x0, y0, frame.shape, self.near_detector)
            best = max(near, key=lambda face: iou(face.box, box), default=None)
            if best is None or iou(best.box, box) <= 0:
                continue
            if all(iou(best.box, other.box) < 0.5 for other in found):
                found.append(best)
        return found

    def _detect(
        self,
        image: np.ndarray,
        scale: float,
        dx: int,
        dy: int,
        frame_shape: tuple[int, ...],
        detector: Any,
    ) -> list[FoundFace]:
        """Run `detector` on `image` scaled by `scale`; map its boxes and eyes back
        to the frame `image` was cut from at (dx, dy)."""
        height, width = image.shape[:2]
        small = (
            np.ascontiguousarray(image)
            if scale >= 1.0
            else cv2.resize(
                image,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
        )
        return self._found(detector.detect_faces(small), min(scale, 1.0), dx, dy, frame_shape)

    @staticmethod
    def _found(
        regions: Sequence[Any], scale: float, dx: int, dy: int, frame_shape: tuple[int, ...]
    ) -> list[FoundFace]:
        """A detector's regions, found in an image scaled by `scale` and cut from the
        frame at (dx, dy), as faces in the frame's pixels (clipped to it)."""
        frame_height, frame_width = frame_shape[:2]
        found: list[FoundFace] = []
        for region in regions:
            x0, y0 = max(0.0, dx + region.x / scale), max(0.0, dy + region.y / scale)
            x1 = min(float(frame_width), dx + (region.x + region.w) / scale)
            y1 = min(float(frame_height), dy + (region.y + region.h) / scale)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            box = Box(round(x0), round(y0), round(x1 - x0), round(y1 - y0))

            def eye(point: Any) -> tuple[float, float] | None:
                return None if point is None else (dx + point[0] / scale, dy + point[1] / scale)

            found.append(
                FoundFace(
                    box,
                    float(region.confidence or 0.0),
                    eye(region.left_eye),
                    eye(region.right_eye),
                )
            )
        return found

    # ------------------------------------------------------------ embedding
    def embed(self, frame: np.ndarray, faces: Sequence[FoundFace]) -> np.ndarray:
        """One embedding per face, from eye-aligned full-resolution crops."""
        if not faces:
            return np.zeros((0, 0))
        from deepface import DeepFace

        if self.landmarks is not None:
            crops = [dlib_chip(frame, face, self.landmarks) for face in faces]
        else:
            crops = [aligned_crop(frame, face) for face in faces]
        results = DeepFace.represent(
            img_path=crops,
            model_name=self.model_name,
            detector_backend="skip",
            enforce_detection=False,
            align=False,
        )
        if len(crops) == 1:
            results = [results]
        return np.asarray([result[0]["embedding"] for result in results], dtype=np.float64)

    # ------------------------------------------------------------ reference
    def _find_in_photo(self, image: np.ndarray, limit: int) -> list[FoundFace]:
        height, width = image.shape[:2]
        scale = min(1.0, limit / max(height, width))
        return self._detect(image, scale, 0, 0, image.shape, self.photo_detector)

    def embed_reference(self, path: str) -> ReferenceFace:
        """Embed the largest face of a reference photo."""
        image = read_photo(path)
        faces = self._find_in_photo(image, max(self.detect_size, 1600))
        scale = 1.0
        if not faces and max(image.shape[:2]) < 800:
            # A small photo: let the detector see it twice as large before giving up.
            scale = 2.0
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            faces = self._find_in_photo(image, 1600)
        if not faces:
            raise ReferencePhotoError(
                f"{path}: no face found in the reference photo; use a photo where the "
                "person's face is clearly visible and at least ~80 pixels wide"
            )
        largest = max(faces, key=lambda face: face.box.area)
        embedding = self.embed(image, [largest])[0]
        others = tuple(_scale_face(face, 1 / scale).box for face in faces if face is not largest)
        return ReferenceFace(embedding, _scale_face(largest, 1 / scale).box, len(faces), others)


def _scale_face(face: FoundFace, factor: float) -> FoundFace:
    def eye(point: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if point is None else (point[0] * factor, point[1] * factor)

    box = face.box
    return FoundFace(
        Box(
            round(box.x * factor),
            round(box.y * factor),
            round(box.w * factor),
            round(box.h * factor),
        ),
        face.confidence,
        eye(face.left_eye),
        eye(face.right_eye),
    )


def _dlib_landmarks() -> Any:
    try:
        import dlib
    except ImportError:
        raise ModelError(
            "the Dlib model needs the Python package dlib: "
            "`pip install dlib` (README, Install: it compiles for ~12 minutes)"
        ) from None
    return dlib.shape_predictor(str(weights_dir() / "shape_predictor_5_face_landmarks.dat"))


def dlib_chip(frame: np.ndarray, face: FoundFace, landmarks: Any) -> np.ndarray:
    """The 150x150 face chip dlib's recognizer expects, aligned by 5 landmarks
    found inside the face box, as BGR."""
    import dlib

    box = face.box
    # Work on a window of one face size around the box, not the whole frame: the
    # landmarks and the padded, rotated chip lie well inside it, and converting a
    # 720p frame to RGB for each face cost a quarter of the embedding's time.
    # cv2.cvtColor, not a numpy channel flip: the same pixels, 25x faster (0.2 ms
    # against 5 ms for a 720x1280 window).
    height, width = frame.shape[:2]
    margin = max(box.w, box.h)
    x0, y0 = max(0, box.x - margin), max(0, box.y - margin)
    x1, y1 = min(width, box.x + box.w + margin), min(height, box.y + box.h + margin)
    rgb = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
    shape = landmarks(
        rgb, dlib.rectangle(box.x - x0, box.y - y0, box.x + box.w - x0, box.y + box.h - y0)
    )
    chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
    bgr: np.ndarray = cv2.cvtColor(chip, cv2.COLOR_RGB2BGR)
    return bgr


def read_photo(path: str) -> np.ndarray:
    """Read a reference photo as 3-channel BGR, upright per its EXIF orientation."""
    source = Path(path)
    if not source.exists():
        raise ReferencePhotoError(f"{path}: no such file")
    if source.is_dir():
        raise ReferencePhotoError(f"{path}: is a directory, not a photo")
    if source.stat().st_size == 0:
        raise ReferencePhotoError(f"{path}: file is empty (0 bytes)")
    data = np.fromfile(str(source), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)  # applies EXIF orientation, drops alpha
    if image is None:
        raise ReferencePhotoError(f"{path}: not a readable image (use a JPEG or PNG photo)")
    return image


def aligned_crop(frame: np.ndarray, face: FoundFace) -> np.ndarray:
    """The face box cut from `frame` after rotating the face so the eyes are level.

    Only a window around the face is rotated (not the whole frame), with black
    where the window leaves the frame.
    """
    box = face.box
    if face.left_eye is None or face.right_eye is None:
        return np.ascontiguousarray(frame[box.y : box.y + box.h, box.x : box.x + box.w])
    margin = max(box.w, box.h)
    x0, y0 = box.x - margin, box.y - margin
    window = _window(frame, x0, y0, box.w + 2 * margin, box.h + 2 * margin)
    (lx, ly), (rx, ry) = face.left_eye, face.right_eye
    # The person's left eye is on the image's right: angle of the eye line.
    angle = float(np.degrees(np.arctan2(ly - ry, lx - rx)))
    centre = ((lx + rx) / 2 - x0, (ly + ry) / 2 - y0)
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    upright = cv2.warpAffine(
        window,
        rotation,
        (window.shape[1], window.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )
    return np.ascontiguousarray(upright[margin : margin + box.h, margin : margin + box.w])


def _window(frame: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """frame[y:y+h, x:x+w] with black padding where it leaves the frame."""
    height, width = frame.shape[:2]
    out = np.zeros((h, w, 3), dtype=frame.dtype)
    sx0, sy0 = max(0, x), max(0, y)
    sx1, sy1 = min(width, x + w), min(height, y + h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y : sy1 - y, sx0 - x : sx1 - x] = frame[sy0:sy1, sx0:sx1]
    return out
