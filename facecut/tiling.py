"""Where a fixed-input detector looks for small faces: a search plan of image-pyramid
levels, each cut into overlapping detector-sized tiles, and the merging of what the
tiles found. Pure: no I/O, no models.

Why: BlazeFace sees a 192x192 picture. Given the whole frame letterboxed into it, a
face must be ~1/16 of the frame's width to be found (110-160 px in 1080p). Cut into
tiles at a finer level of a pyramid, the same model finds faces of ~14 px in its
input, wherever they are. The finest level's scale comes from the smallest face
wanted as a share of the frame, so the number of tiles, and the cost of a search,
does not grow with the frame's size: a 4K frame is shrunk to the same level size as
a 720p one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

INPUT_SIZE = 192  # BlazeFace's input, pixels square
# The face (dlib's box width) BlazeFace's full-range model is planned to see in its
# input. Found down to ~11 px, but not reliably: on the face-size ladder
# (bench/ladder.py), planned for 12 px, --speed (48 px, level scale 0.25) missed the
# 48 px rung (47 px boxes, 11.8 px in the input) on every frame, while the default
# (32 px, scale 0.375) found its 30 px boxes (11.3 px). 14 px leaves a margin.
SMALLEST_INPUT_FACE = 14
# Consecutive levels differ by this factor, and tiles of a level overlap by
# SMALLEST_INPUT_FACE x LEVEL_STEP pixels: a face too large to lie whole inside some
# tile of a level is at least SMALLEST_INPUT_FACE at the next, coarser level.
LEVEL_STEP = 4
TILE_OVERLAP = SMALLEST_INPUT_FACE * LEVEL_STEP
# Sizes the user gives are in pixels of a frame whose longer side is this (1080p).
REFERENCE_SIDE = 1920


@dataclass(frozen=True)
class Tile:
    """A detector input cut from a level at (x, y); w x h is at most INPUT_SIZE each
    (smaller only where the level itself is smaller: the rest of the input is black)."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Level:
    """The frame resized to width x height, and the tiles that cover it."""

    width: int
    height: int
    tiles: tuple[Tile, ...]


@dataclass(frozen=True)
class SearchPlan:
    """How to search a frame_width x frame_height frame: levels finest first; the
    last, coarsest one is the whole frame in one tile."""

    frame_width: int
    frame_height: int
    levels: tuple[Level, ...]

    @property
    def tile_count(self) -> int:
        return sum(len(level.tiles) for level in self.levels)


@dataclass(frozen=True)
class Detection:
    """A face found in one tile, as (x, y, w, h) in frame pixels, with its score and
    whether it touches a tile edge inside the level (the face may be cut there)."""

    box: tuple[float, float, float, float]
    score: float
    cut_off: bool
    payload: object = None  # what the detector returned, carried through the merge


def frame_face(min_face: int, width: int, height: int) -> float:
    """A face of `min_face` px in a 1920-px (longer side) frame, in this frame's pixels."""
    return min_face * max(width, height) / REFERENCE_SIDE


def positions(length: int, tile: int = INPUT_SIZE, overlap: int = TILE_OVERLAP) -> list[int]:
    """Starts of tiles of `tile` px covering [0, length), evenly spread, neighbours
    overlapping by at least `overlap` px; one tile if the length fits."""
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / (tile - overlap)) + 1
    span = length - tile
    return [round(i * span / (count - 1)) for i in range(count)]


def _level(width: int, height: int) -> Level:
    tiles = tuple(
        Tile(x, y, min(INPUT_SIZE, width - x), min(INPUT_SIZE, height - y))
        for y in positions(height)
        for x in positions(width)
    )
    return Level(width, height, tiles)


def search_plan(width: int, height: int, min_face: int) -> SearchPlan:
    """The levels and tiles that find faces down to `min_face` px (in a 1920-px
    frame; proportionally in others) anywhere in a width x height frame. `min_face`
    0 gives the whole frame in one input only."""
    return plan_for_face(width, height, frame_face(min_face, width, height))


def plan_for_face(width: int, height: int, smallest: float) -> SearchPlan:
    """The levels and tiles that find faces down to `smallest` px anywhere in a
    width x height image; the whole image only if that already finds them (or
    `smallest` is 0)."""
    if width < 1 or height < 1:
        raise ValueError("frame size must be positive")
    whole = INPUT_SIZE / max(width, height)
    levels = []
    if smallest > 0:
        scale = SMALLEST_INPUT_FACE / smallest
        while scale > whole:
            levels.append(_level(round(width * scale), round(height * scale)))
            scale /= LEVEL_STEP
    levels.append(_level(max(1, round(width * whole)), max(1, round(height * whole))))
    return SearchPlan(width, height, tuple(levels))


def to_frame(
    plan: SearchPlan, level: Level, tile: Tile, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """A box (x, y, w, h) in a tile's input pixels, in the frame's pixels."""
    sx, sy = plan.frame_width / level.width, plan.frame_height / level.height
    x, y, w, h = box
    return ((tile.x + x) * sx, (tile.y + y) * sy, w * sx, h * sy)


def cut_off(level: Level, tile: Tile, box: tuple[float, float, float, float]) -> bool:
    """True if a box (tile pixels) reaches an edge of the tile that is not an edge of
    the level: the face may go on in the next tile, which then sees it whole."""
    x, y, w, h = box
    margin = 1.0
    return (
        (tile.x > 0 and x <= margin)
        or (tile.y > 0 and y <= margin)
        or (tile.x + tile.w < level.width and x + w >= tile.w - margin)
        or (tile.y + tile.h < level.height and y + h >= tile.h - margin)
    )


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area: 1 when one box lies inside the
    other (a face cut at a seam lies inside the same face seen whole)."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    smaller = min(a[2] * a[3], b[2] * b[3])
    return inter / smaller if smaller > 0 else 0.0


# Two detections overlapping this much (of the smaller box) are one face. Faces of
# two people never overlap by half; the same face seen by two tiles or two levels
# overlaps by 0.7-1.
SAME_FACE = 0.5


def merge(detections: Sequence[Detection]) -> list[Detection]:
    """One detection per face: where tiles or levels found the same face, the one
    that saw it whole wins, then the higher score."""
    ranked = sorted(detections, key=lambda d: (d.cut_off, -d.score))
    kept: list[Detection] = []
    for detection in ranked:
        if all(overlap(detection.box, other.box) < SAME_FACE for other in kept):
            kept.append(detection)
    return kept
