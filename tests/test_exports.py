"""Cut lists for editors: timecodes and the CSV text (pure). The EDL and the other
editor timelines: test_timelines.py."""
from __future__ import annotations

from fractions import Fraction

import pytest

from facecut.exports import segments_csv, timecode, timecode_rate


@pytest.mark.parametrize("fps, expected", [
    (Fraction(30000, 1001), (30, True)),
    (Fraction(60000, 1001), (60, True)),
    (Fraction(24000, 1001), (24, False)),  # 23.976 has no drop-frame timecode
    (Fraction(25), (25, False)),
    (Fraction(30), (30, False)),
    (Fraction(2997, 100), (30, True)),  # "29.97" in a container is NTSC
    (Fraction(59, 2), (30, False)),  # 29.5 is not
])
def test_timecode_rate(fps, expected):
    assert timecode_rate(fps) == expected


@pytest.mark.parametrize("frames, rate, drop, expected", [
    (0, 30, False, "00:00:00:00"),
    (29, 30, False, "00:00:00:29"),
    (30, 30, False, "00:00:01:00"),
    (25 * 3600, 25, False, "01:00:00:00"),
    # drop-frame: numbers ;00 and ;01 skipped at each minute but every tenth
    (1799, 30, True, "00:00:59;29"),
    (1800, 30, True, "00:01:00;02"),
    (3597, 30, True, "00:01:59;29"),
    (3598, 30, True, "00:02:00;02"),
    (17981, 30, True, "00:09:59;29"),
    (17982, 30, True, "00:10:00;00"),  # tenth minute: nothing dropped
    (107892, 30, True, "01:00:00;00"),  # one hour of 29.97 is 107892 frames
    (3600, 60, True, "00:01:00;04"),
])
def test_timecode(frames, rate, drop, expected):
    assert timecode(frames, rate, drop) == expected


def _document(fps="30000/1001", has_audio=True):
    return {
        "video": {"path": "/videos/talk show.mp4", "fps_rational": fps, "has_audio": has_audio},
        "segments": [
            {"index": 1, "clip": "clip_1.mp4", "start_frame": 1800, "end_frame": 1829,
             "start_time": 1800 * 1001 / 30000, "end_time": 1830 * 1001 / 30000,
             "duration": 30 * 1001 / 30000, "best_distance": 0.31, "frames_matched_by_track": 4},
            {"index": 2, "clip": None, "start_frame": 17982, "end_frame": 18041,
             "start_time": 17982 * 1001 / 30000, "end_time": 18042 * 1001 / 30000,
             "duration": 60 * 1001 / 30000, "best_distance": None, "frames_matched_by_track": 0},
        ],
    }


def test_csv_has_one_row_per_segment():
    rows = segments_csv(_document()).splitlines()
    assert rows[0].split(",")[:4] == ["index", "clip", "start_frame", "end_frame"]
    assert rows[1].startswith("1,clip_1.mp4,1800,1829,60.060000,61.061000,1.001000,00:01:00;02,00:01:01;02,0.31,4")
    assert rows[2].startswith("2,,17982,18041,")
    assert len(rows) == 3
