"""The faces of people found with no photo, as photos (I/O: decodes frames, writes
JPEGs).

Each person gets `people/person_N.jpg`, their clearest face, for the review page and
people.json, and `people/person_N/face_K.jpg`, their clearest faces from different
tracks: a reference set that a later run takes as `--reference NAME=people/person_N`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .decode import read_frames
from .errors import FacecutError
from .probe import VideoInfo
from .segments import Box

log = logging.getLogger(__name__)

FOLDER = "people"
# Around the face box on each side, as a share of its size: a detector needs some of
# the head and background to find a face in a photo that is nothing but the face.
MARGIN = 0.6


def crop(frame: np.ndarray, box: Box, margin: float = MARGIN) -> np.ndarray:
    """The face with `margin` of its size around it, within the frame."""
    height, width = frame.shape[:2]
    dx, dy = round(box.w * margin), round(box.h * margin)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1, y1 = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
    return frame[y0:y1, x0:x1]


def write_faces(
    video: VideoInfo, faces: Sequence[tuple[int, Box]], paths: Sequence[Path]
) -> list[bool]:
    """Each face (frame, box) cropped from the video to its path, as JPEG; False
    where it could not be (a warning says why: a missing photo never fails a run)."""
    import cv2

    done = []
    for (frame_index, box), path in zip(faces, paths, strict=True):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            image = None
            for _, frame in read_frames(video, frame_index, frame_index + 1):
                image = crop(frame, box)
            if image is None or image.size == 0:
                raise OSError(f"frame {frame_index} did not decode")
            if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92]):
                raise OSError(f"cannot write {path}")
            done.append(True)
        except (OSError, FacecutError) as error:
            log.warning(f"{video.path}: no face photo {path.name} ({error})")
            done.append(False)
    return done
