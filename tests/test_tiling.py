"""The tiled whole-frame search's plan, its mapping back to the frame, and the merging of
faces found twice at tile seams and across levels (pure: no models)."""
from __future__ import annotations

from itertools import pairwise

import pytest

from facecut.tiling import (
    INPUT_SIZE,
    SMALLEST_INPUT_FACE,
    TILE_OVERLAP,
    Detection,
    Level,
    Tile,
    cut_off,
    frame_face,
    merge,
    plan_for_face,
    positions,
    search_plan,
    to_frame,
)


@pytest.mark.parametrize("length, expected", [
    (100, [0]),  # fits in one tile
    (192, [0]),
    (193, [0, 1]),
    (464, [0, 136, 272]),  # neighbours overlap by exactly 56 (TILE_OVERLAP)
    (480, [0, 96, 192, 288]),  # spread evenly: overlaps of 96
    (720, [0, 132, 264, 396, 528]),  # overlaps of 60
])
def test_positions(length, expected):
    assert positions(length) == expected


@pytest.mark.parametrize("length", [193, 300, 405, 720, 841, 1500])
def test_positions_cover_the_length_with_the_overlap(length):
    starts = positions(length)
    assert starts[0] == 0 and starts[-1] + INPUT_SIZE == length
    assert all(b - a <= INPUT_SIZE - TILE_OVERLAP for a, b in pairwise(starts))


@pytest.mark.parametrize("width, height, min_face, levels, tiles", [
    # 1080p, 32 px: an 840x472 level (6x4 tiles), a 210x118 one (2 tiles), the whole frame
    (1920, 1080, 32, [(840, 472), (210, 118), (192, 108)], 27),
    # the same share of a 720p or a 4K frame: the same plan (cost does not grow)
    (1280, 720, 32, [(840, 472), (210, 118), (192, 108)], 27),
    (3840, 2160, 32, [(840, 472), (210, 118), (192, 108)], 27),
    (1920, 1080, 48, [(560, 315), (192, 108)], 9),  # 4x2 tiles and the whole frame
    (1080, 1920, 32, [(472, 840), (118, 210), (108, 192)], 27),  # portrait
    (1920, 1080, 0, [(192, 108)], 1),  # whole frame only
    (1920, 1080, 200, [(192, 108)], 1),  # the whole frame finds 200 px faces already
    # a 16 px face: 1680x945 (12x7 tiles), then 420x236 (3x2), then the whole frame
    (1920, 1080, 16, [(1680, 945), (420, 236), (192, 108)], 91),
])
def test_search_plan(width, height, min_face, levels, tiles):
    plan = search_plan(width, height, min_face)
    assert [(level.width, level.height) for level in plan.levels] == levels
    assert plan.tile_count == tiles


@pytest.mark.parametrize("width, height, min_face", [
    (1920, 1080, 32), (1280, 720, 48), (3840, 2160, 24), (640, 360, 32), (1080, 1920, 40),
])
def test_every_face_size_lies_whole_in_a_tile_where_it_is_large_enough(width, height, min_face):
    """From the smallest face up, each face size is at least SMALLEST_INPUT_FACE at some
    level whose tiles overlap by at least its size there (so a face anywhere lies whole
    in one tile), or the whole-frame level finds it."""
    plan = search_plan(width, height, min_face)
    smallest = frame_face(min_face, width, height)
    size = smallest
    while size < max(width, height) / 2:
        covered = False
        for level in plan.levels:
            scale = level.width / width
            in_level = size * scale
            whole = len(level.tiles) == 1
            if in_level >= SMALLEST_INPUT_FACE * 0.99 and (whole or in_level <= TILE_OVERLAP):
                covered = True
        assert covered, f"a {size:.0f} px face is found at no level"
        size *= 1.1


def test_to_frame_maps_tile_boxes_back_to_frame_pixels():
    plan = search_plan(1920, 1080, 32)  # finest level 840x472: x 1920/840, y 1080/472
    level = plan.levels[0]
    tile = level.tiles[7]  # the second tile of the second row
    assert (tile.x, tile.y) == (130, 93)
    x, y, w, h = to_frame(plan, level, tile, (10.0, 20.0, 12.0, 12.0))
    assert (x, y, w, h) == pytest.approx(((130 + 10) * 1920 / 840, (93 + 20) * 1080 / 472,
                                          12 * 1920 / 840, 12 * 1080 / 472))


@pytest.mark.parametrize("tile, box, expected", [
    (Tile(0, 0, 192, 192), (0.0, 50.0, 20.0, 20.0), False),  # on the level's own edge
    (Tile(0, 0, 192, 192), (180.0, 50.0, 12.0, 20.0), True),  # runs into the next tile
    (Tile(132, 0, 192, 192), (0.5, 50.0, 20.0, 20.0), True),  # starts at a seam
    (Tile(132, 213, 192, 192), (50.0, 180.0, 20.0, 12.0), False),  # the level's bottom
    (Tile(528, 0, 192, 192), (180.0, 50.0, 12.0, 20.0), False),  # the level's right edge
    (Tile(0, 0, 192, 192), (50.0, 50.0, 20.0, 20.0), False),  # inside
])
def test_cut_off(tile, box, expected):
    assert cut_off(Level(720, 405, ()), tile, box) is expected


def test_merge_keeps_one_face_per_person_preferring_the_one_seen_whole():
    whole = Detection((100.0, 100.0, 40.0, 40.0), 0.7, False, "whole")
    half = Detection((120.0, 100.0, 20.0, 40.0), 0.9, True, "cut at a seam")
    again = Detection((101.0, 99.0, 41.0, 40.0), 0.8, False, "the next tile")
    coarse = Detection((98.0, 102.0, 44.0, 42.0), 0.65, False, "the coarser level")
    other = Detection((150.0, 100.0, 40.0, 40.0), 0.6, False, "someone beside")
    kept = merge([half, whole, again, coarse, other])
    assert [d.payload for d in kept] == ["the next tile", "someone beside"]


def test_merge_keeps_neighbours_that_touch():
    # two people side by side, boxes overlapping by less than half the smaller one
    a = Detection((0.0, 0.0, 40.0, 40.0), 0.9, False, "a")
    b = Detection((25.0, 0.0, 40.0, 40.0), 0.9, False, "b")
    assert len(merge([a, b])) == 2


def test_plan_for_face_in_a_window():
    # a 360x360 window around a 40 px face, searched for faces of 20 px and up: one
    # 252x252 level (2x2 tiles) and the whole window
    plan = plan_for_face(360, 360, 20)
    assert [(level.width, level.height) for level in plan.levels] == [(252, 252), (192, 192)]
    assert plan.tile_count == 5
    with pytest.raises(ValueError):
        plan_for_face(0, 10, 20)
