"""The two scan presets. Figures behind these choices are in docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    detect_size: int  # longer side of the frame the detector sees (dlib and others)
    interval: int  # analyse every Nth frame unless --interval is given
    description: str
    detector: str  # unless --detector says otherwise
    # BlazeFace's smallest face, in pixels of a 1920-px frame, unless --min-face says
    # otherwise: the finest level of its tiled whole-frame search (tiling.py)
    min_face: int
    # The whole frame is searched on every Nth frame (and on picture jumps); between,
    # tracked faces are followed near their last box. A face that enters without a
    # cut is first seen up to N-1 frames late, and edge refinement searches those
    # frames whole, so its edge is still exact.
    full_detect_every: int
    # x264's speed preset for re-encoded clips (--clips reencode, and codecs mp4 cannot
    # carry): --speed trades clip size for time
    # (docs/benchmarks.md, "Clip encoding under --speed")
    clip_encoding: str = "veryfast"


ACCURATE = Preset(
    name="accurate",
    detect_size=640,
    # every 2nd frame: delivering a decoded 720p frame to Python costs ~3 ms (ffmpeg's
    # BGR conversion and the pipe), as much as following a face in it; skipped frames
    # are dropped inside ffmpeg before that, and edge refinement still pins every
    # edge to the frame
    interval=2,
    description="every 2nd frame (edges refined to the frame), BlazeFace finding faces "
    "down to 32 px of 1080p",
    detector="blazeface",
    min_face=32,
    full_detect_every=30,
)

SPEED = Preset(
    name="speed",
    detect_size=384,
    interval=10,
    description="every 10th frame (edges refined to the frame), BlazeFace finding faces "
    "down to 48 px of 1080p",
    detector="blazeface",
    min_face=48,
    full_detect_every=30,
    clip_encoding="ultrafast",
)

# With no photo: face tracks are one person while their average embedding distance is
# at most this (Dlib's distances). bench/people.py on the 7-person montage (6 side by
# side): every person found once, purity and completeness 1.0, at 0.40-0.55 with the
# accurate preset and 0.40-0.575 with --speed; 0.35 splits a person, 0.60 joins two.
# The middle of the range both share (docs/benchmarks.md, "People").
LINK_DISTANCE = 0.475
