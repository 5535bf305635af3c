"""The run's configuration: one frozen value, built once by the CLI (pure: no I/O).

It has a part per stage, and each part says what it governs:

- `ScanSettings`: everything that changes what a scan records (detector, model,
  working size, interval, tracking constants). It is the scan cache's key, so a rerun
  that changes anything else re-segments and re-cuts from the cache instead of
  scanning again.
- `SegmentSettings`: how matched frames become appearances (threshold, gaps).
- `CutSettings`: how appearances become clips (mode, padding, encoder preset).
- `OutputSettings`: where and how results are written (overwrite, cache, bars).

`metadata.settings_record` and `cache.CacheKey` derive from it; nothing copies its
fields by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from .presets import Preset

# --clips: exact (stream copy, frame-exact through an edit list; re-encoded where that
# cannot be), reencode (x264), keyframe (stream copy from the keyframe before)
ClipMode = Literal["exact", "reencode", "keyframe"]
CutMode = Literal["exact", "reencode", "keyframe", "none"]  # none: --dry-run


@dataclass(frozen=True)
class ScanSettings:
    """What every worker scans with, and the scan cache's key (with the inputs'
    digests). Tracks split at a distance scaled from the model's own threshold, never
    from --threshold: what a scan records must not depend on settings a cached rerun
    may change."""

    model: str
    detector: str
    detect_size: int  # longer side of the frame the detector sees, in pixels
    interval: int  # analyse every Nth frame
    metric: str  # "euclidean" or "cosine", the model's
    model_threshold: float  # the model's default match distance (scales split_factor)
    # BlazeFace: the smallest face a whole-frame search finds, in pixels of a frame
    # whose longer side is 1920 (tiling.search_plan); 0 searches the whole frame in
    # one input only. Other detectors work at detect_size instead (0 here).
    min_face: int = 0
    # A tracked face whose new embedding is farther than split_factor x threshold
    # from the track's previous one is someone else (a cut the thumbnails missed):
    # the track is split. Above 1, so blur or a turn of the same head does not split.
    split_factor: float = 1.3
    embed_every: int = 5  # frames between embeddings of a tracked face
    # ... once its identity is settled: two embeddings in a row farther than
    # settled_margin x threshold from the model's threshold (on the shared people,
    # the target's frames lie at most 0.455 from the reference and others at least
    # 0.543, threshold 0.5: docs/benchmarks.md, "Threshold"). With a crowd on screen
    # this bounds the embedding work per frame; a settled face that becomes someone
    # else without a picture jump is caught up to this many frames late.
    settled_embed_every: int = 60
    settled_margin: float = 0.3
    embed_every_samples: int = 3  # the same on sampled passes (--interval > 1), in samples
    # The whole frame is searched for faces on every Nth frame (on a sampled pass, the
    # first sample at least N frames after the last search), and on any picture jump;
    # in between, each tracked face is looked for only near its last box. A face that
    # appears without a cut is found up to N-1 frames late; edge refinement, which
    # searches every frame whole, then finds its first frame.
    full_detect_every: int = 3

    def verdict(self, distances: tuple[float, ...]) -> int:
        """How a face's distances to the people searched fall, for the tracker (only
        equal verdicts in a row settle a track): -(p + 1) if it is clearly person p and
        matches nobody else even at the model's threshold, +1 if it is clearly nobody,
        else 0 (near the threshold; or, with nobody searched, always: nothing to
        settle on). Why "nobody else" and not "clearly nobody else": with 7 people
        searched, a stranger's face lies 0.35-0.65 from someone most of the time
        (bench/people.py), and the stricter rule kept every track unsettled, 1.37x
        one person's scan time."""
        low = self.model_threshold * (1 - self.settled_margin)
        high = self.model_threshold * (1 + self.settled_margin)
        if not distances:
            return 0
        clear = [person for person, value in enumerate(distances) if value < low]
        if len(clear) == 1:
            others = (v for p, v in enumerate(distances) if p != clear[0])
            return -(clear[0] + 1) if all(v > self.model_threshold for v in others) else 0
        return 1 if all(value > high for value in distances) else 0

    @property
    def split_distance(self) -> float:
        """Two embeddings of one track farther apart than this are two people."""
        return self.model_threshold * self.split_factor

    def same_models(self, other: ScanSettings) -> bool:
        """True if a worker loaded for `other` can scan with these settings."""
        return (self.model, self.detector, self.detect_size, self.min_face) == (
            other.model,
            other.detector,
            other.detect_size,
            other.min_face,
        )


@dataclass(frozen=True)
class SegmentSettings:
    threshold: float  # largest distance that counts as a match (--threshold or the model's)
    min_gap: Fraction  # appearances closer than this are one
    min_duration: Fraction  # shorter appearances are dropped


@dataclass(frozen=True)
class CutSettings:
    mode: CutMode
    padding: Fraction  # seconds of context before and after each clip
    encoding: str  # x264 preset of accurate mode


@dataclass(frozen=True)
class OutputSettings:
    overwrite: bool = False
    cache: bool = True  # keep the scan next to the results; reuse it when it fits
    calibrate: bool = False  # scan, then report face distances instead of cutting
    progress: bool = True  # one progress bar per worker
    supercut: bool = False  # also every appearance in one file, supercut.mp4


@dataclass(frozen=True)
class DiscoverySettings:
    """How tracks become people (the same for every video of a run)."""

    # two groups of tracks are one person while their average embedding distance is at
    # most this (--link-distance; default presets.LINK_DISTANCE, where it is measured)
    link_distance: float
    min_frames: int = 3  # analysed frames: a track seen on fewer is unsorted
    min_face: int = 24  # px wide: dlib's embedding of a smaller face is unreliable
    selected: tuple[int, ...] = ()  # --person: the people whose clips are cut (1-based)


@dataclass(frozen=True)
class ReferenceSet:
    """One person searched for: a name (for their clips' folder and in every result)
    and the photos of them (paths; a face matches by its distance to the closest)."""

    name: str
    photos: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    preset: Preset
    people: tuple[ReferenceSet, ...]  # in the order given; one scan searches them all
    processes: int  # local worker processes
    backend: str  # where the scan runs: "local" or "ray" (--backend)
    scan: ScanSettings
    segments: SegmentSettings
    cut: CutSettings
    output: OutputSettings
    # no photo (--people, or no --reference): the people are found by grouping tracks
    discovery: DiscoverySettings | None = None

    @property
    def references(self) -> tuple[str, ...]:
        """Every reference photo's path, person after person."""
        return tuple(photo for person in self.people for photo in person.photos)


@dataclass(frozen=True)
class Job:
    """One video of a run and where its results go."""

    video: str
    output: Path
    bar_offset: int = 0  # terminal lines above the worker bars (a batch's overall bar)
