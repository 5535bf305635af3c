"""The one-person form of segments.match_people, for tests written for one person."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from facecut.segments import FrameFaces, Match, match_people


def match_frames(frames: Iterable[FrameFaces], threshold: float,
                 track_distance: Mapping[int, float] | None = None,
                 joined: Mapping[int, int] | None = None,
                 veto: float | None = None) -> dict[int, Match]:
    """Every analysed frame that shows the one person searched."""
    return match_people(frames, 1, threshold, (track_distance or {},), joined, veto)[0]
