"""Cut lists for editors, made from the metadata document (pure: no I/O).

segments.csv: one row per appearance of each person searched (their name first, in the
document's order: by person, then time), with timecodes at the video's frame rate
(drop-frame for 29.97 and 59.94). The timecode rules here (`timecode_rate`, `timecode`)
are also the editor timelines' (facecut/timelines.py: the EDL and the XML files).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

# "person" even when one person is searched: one schema for every run
CSV_COLUMNS = (
    "person",
    "index",
    "clip",
    "start_frame",
    "end_frame",
    "start_time",
    "end_time",
    "duration",
    "start_timecode",
    "end_timecode",
    "best_distance",
    "frames_matched_by_track",
)


def timecode_rate(fps: Fraction) -> tuple[int, bool]:
    """(frames per timecode second, drop-frame?) for a frame rate: 30000/1001 counts
    30 frames a second with drop-frame numbering, 25 counts 25, 23.976 counts 24."""
    nominal = max(1, round(fps))
    drop = (
        nominal in (30, 60)
        and fps != nominal
        and abs(fps - Fraction(nominal * 1000, 1001)) < Fraction(1, 1000)
    )
    return nominal, drop


def timecode(frames: int, rate: int, drop: bool) -> str:
    """HH:MM:SS:FF (HH:MM:SS;FF with drop-frame) for a count of frames from zero.

    Drop-frame skips frame numbers 0 and 1 (0-3 at 60) at the start of every minute
    except every tenth, so the timecode keeps up with the clock at 29.97 fps."""
    if frames < 0:
        raise ValueError("frames must be >= 0")
    number = frames
    if drop:
        dropped = 2 * (rate // 30)
        per_ten_minutes = rate * 600 - dropped * 9
        per_minute = rate * 60 - dropped
        tens, rest = divmod(frames, per_ten_minutes)
        number += dropped * 9 * tens
        if rest > dropped:
            number += dropped * ((rest - dropped) // per_minute)
    ff = number % rate
    seconds = number // rate
    text = f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{text}{';' if drop else ':'}{ff:02d}"


def _frames_at(seconds: float, fps: Fraction) -> int:
    """Timecode frame count of a time: time x rate, to the nearest frame."""
    return max(0, round(Fraction(seconds).limit_denominator(1_000_000) * fps))


def segments_csv(document: Mapping[str, Any]) -> str:
    fps = Fraction(document["video"]["fps_rational"])
    rate, drop = timecode_rate(fps)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for segment in document["segments"]:
        writer.writerow(
            [
                segment["person"],
                segment["index"],
                segment["clip"] or "",
                segment["start_frame"],
                segment["end_frame"],
                f"{segment['start_time']:.6f}",
                f"{segment['end_time']:.6f}",
                f"{segment['duration']:.6f}",
                timecode(_frames_at(segment["start_time"], fps), rate, drop),
                timecode(_frames_at(segment["end_time"], fps), rate, drop),
                "" if segment["best_distance"] is None else segment["best_distance"],
                segment["frames_matched_by_track"],
            ]
        )
    return out.getvalue()
