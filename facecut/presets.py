"""The two scan presets. Figures behind these choices are in docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    detect_size: int  # longer side of the frame the detector sees, in pixels
    interval: int  # analyse every Nth frame unless --interval is given
    description: str
    detector: str  # unless --detector says otherwise
    # x264's speed preset for re-encoded clips (--clips reencode, and codecs mp4 cannot
    # carry): --speed trades clip size for time
    # (docs/benchmarks.md, "Clip encoding under --speed")
    clip_encoding: str = "veryfast"


ACCURATE = Preset(
    name="accurate",
    detect_size=640,
    interval=1,
    description="every frame, detector at up to 640 px",
    detector="dlib",
)

SPEED = Preset(
    name="speed",
    detect_size=384,
    interval=10,
    description="every 10th frame (edges refined to the frame), BlazeFace detector",
    # ~9 ms per 720p frame against ~70-90 ms for dlib's HOG at 384 px, same faces found
    # on the benchmark montage (docs/benchmarks.md, "Detectors")
    detector="blazeface",
    clip_encoding="ultrafast",
)
