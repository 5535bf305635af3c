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


def _segment(person, index, clip, first, last, best, by_track):
    """One appearance at 29.97 fps, frames first..last."""
    return {"person": person, "index": index, "clip": clip, "start_frame": first,
            "end_frame": last, "start_time": first * 1001 / 30000,
            "end_time": (last + 1) * 1001 / 30000, "duration": (last + 1 - first) * 1001 / 30000,
            "best_distance": best, "frames_matched_by_track": by_track}


def _document(segments):
    return {"video": {"path": "/videos/talk show.mp4", "fps_rational": "30000/1001",
                      "has_audio": True},
            "segments": segments}


ONE_PERSON = [_segment("host", 1, "clip_1.mp4", 1800, 1829, 0.31, 4),
              _segment("host", 2, None, 17982, 18041, None, 0)]
# the document's order: person after person, each in time order (the guest's first
# appearance overlaps the host's second: both on screen)
TWO_PEOPLE = [_segment("host", 1, "host/clip_1.mp4", 1800, 1829, 0.31, 4),
              _segment("host", 2, "host/clip_2.mp4", 17982, 18041, 0.4, 0),
              _segment("guest", 1, "guest/clip_1.mp4", 18000, 18029, 0.28, 2)]


@pytest.mark.parametrize("segments, expected", [
    (ONE_PERSON, [
        "host,1,clip_1.mp4,1800,1829,60.060000,61.061000,1.001000,00:01:00;02,00:01:01;02,0.31,4",
        "host,2,,17982,18041,599.999400,602.001400,2.002000,00:10:00;00,00:10:02;00,,0",
    ]),
    (TWO_PEOPLE, [
        "host,1,host/clip_1.mp4,1800,1829,60.060000,61.061000,1.001000,00:01:00;02,"
        "00:01:01;02,0.31,4",
        "host,2,host/clip_2.mp4,17982,18041,599.999400,602.001400,2.002000,00:10:00;00,"
        "00:10:02;00,0.4,0",
        "guest,1,guest/clip_1.mp4,18000,18029,600.600000,601.601000,1.001000,00:10:00;18,"
        "00:10:01;18,0.28,2",
    ]),
    ([], []),
])
def test_csv_has_one_row_per_appearance_of_each_person(segments, expected):
    rows = segments_csv(_document(segments)).splitlines()
    assert rows[0] == ("person,index,clip,start_frame,end_frame,start_time,end_time,duration,"
                       "start_timecode,end_timecode,best_distance,frames_matched_by_track")
    assert rows[1:] == expected
