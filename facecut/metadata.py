"""Build the metadata.json document (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import blazeface
from .config import Config
from .segments import FrameFaces, Match, Segment, clip_frames
from .timecode import FrameClock, rational_text

# 2: "references" (a list) replaced "reference"
# 3: settings.cut is exact/reencode/keyframe/none (was accurate/copy/none); each
#    segment says how its clip was cut (clip_cut) and what it shows
SCHEMA_VERSION = 3


def seconds(value: Fraction) -> float:
    """Seconds for JSON: microsecond precision is finer than any frame."""
    return round(float(value), 6)


@dataclass(frozen=True)
class VideoSummary:
    path: str
    fps: Fraction
    frame_count: int
    duration: Fraction
    width: int
    height: int
    has_audio: bool
    audio_streams: int
    rotation: int
    start_time: Fraction
    variable_frame_rate: bool


@dataclass(frozen=True)
class ReferenceSummary:
    """One reference photo and the face taken from it."""

    path: str
    faces_found: int
    box: Mapping[str, int]


@dataclass(frozen=True)
class ClipOutcome:
    """What happened when a segment's clip was cut."""

    file: str | None
    error: str | None = None
    method: str | None = None  # cut.COPY_EXACT, COPY_KEYFRAME or REENCODE
    first_frame: int | None = None  # the source frames the clip shows
    last_frame: int | None = None


@dataclass(frozen=True)
class SupercutOutcome:
    """What happened when the supercut was made (--supercut)."""

    file: str | None
    ranges: tuple[tuple[int, int], ...]  # inclusive source frame ranges, in order
    frames: int  # frames it shows: each range's frames, each frame once
    seconds: float  # spent making it
    error: str | None = None


@dataclass
class Stats:
    frames_analysed: int = 0
    frames_decoded: int = 0
    seconds_scan: float = 0.0
    seconds_cut: float = 0.0
    seconds_total: float = 0.0
    workers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def detection_record(result: FrameFaces, match: Match, clock: FrameClock) -> dict[str, Any]:
    """The face that shows the person in a frame, as metadata shows it."""
    face = match.face
    box = face.box
    return {
        "frame": result.frame,
        "time": seconds(clock.start_of(result.frame)),
        "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
        # None when the face was not embedded on this frame (its track vouches for it)
        "distance": None if face.distance is None else round(face.distance, 4),
        "confidence": round(face.confidence, 3),
        "matched_by": match.by,
        "track": match.track,
        "faces_in_frame": len(result.faces),
    }


def settings_record(config: Config) -> dict[str, Any]:
    """metadata.json's "settings": what the run scanned, matched and cut with, from the
    run's one Config (so it can never disagree with what the run did)."""
    scan = config.scan
    return {
        "model": scan.model,
        "detector": scan.detector,
        "metric": scan.metric,
        "threshold": config.segments.threshold,
        "interval": scan.interval,
        "min_gap": float(config.segments.min_gap),
        "min_duration": float(config.segments.min_duration),
        "padding": float(config.cut.padding),
        "cut": config.cut.mode,
        "preset": config.preset.name,
        # BlazeFace always sees the frame at its own input size
        "detect_size": blazeface.INPUT_SIZE
        if scan.detector == blazeface.NAME
        else scan.detect_size,
        # BlazeFace's smallest face in a 1920-px frame; null for other detectors
        "min_face": scan.min_face or None,
        "full_detect_every": scan.full_detect_every,
    }


def build_metadata(
    video: VideoSummary,
    references: Sequence[ReferenceSummary],
    config: Config,
    clock: FrameClock,
    segments: Sequence[Segment],
    clips: Sequence[ClipOutcome],
    results: Sequence[FrameFaces],
    matches: Mapping[int, Match],
    stats: Stats,
    supercut: SupercutOutcome | None = None,
) -> dict[str, Any]:
    """Assemble metadata.json. `clips[i]` is the outcome for `segments[i]`;
    `matches` says which analysed frames show the person and why."""
    if len(clips) != len(segments):
        raise ValueError("one clip outcome per segment is required")
    by_frame = {result.frame: result for result in results}
    on_screen = sum((segment.duration(clock) for segment in segments), Fraction(0))
    return {
        "schema_version": SCHEMA_VERSION,
        "video": video_record(video),
        # every face compared against; a face's distance is to the closest of them
        "references": [
            {
                "path": reference.path,
                "faces_found": reference.faces_found,
                "box": dict(reference.box),
                "embedding_source": "largest face in the photo",
            }
            for reference in references
        ],
        "settings": settings_record(config),
        "segments": [
            segment_record(index, segment, clip, by_frame, matches, clock, config.cut.padding)
            for index, (segment, clip) in enumerate(zip(segments, clips, strict=True), start=1)
        ],
        # --supercut: every appearance in one file (null without --supercut)
        "supercut": None if supercut is None else supercut_record(supercut),
        "summary": {
            "segments": len(segments),
            "seconds_on_screen": seconds(on_screen),
            "clips_written": sum(1 for clip in clips if clip.file and not clip.error),
            "clips_failed": sum(1 for clip in clips if clip.error),
        },
        "stats": {
            "frames_analysed": stats.frames_analysed,
            "frames_decoded": stats.frames_decoded,
            "seconds_scan": round(stats.seconds_scan, 3),
            "seconds_cut": round(stats.seconds_cut, 3),
            "seconds_total": round(stats.seconds_total, 3),
            "workers": stats.workers,
            **stats.extra,
        },
    }


def supercut_record(supercut: SupercutOutcome) -> dict[str, Any]:
    return {
        "file": supercut.file,
        "ranges": [list(pair) for pair in supercut.ranges],
        "frames": supercut.frames,
        "cut": "reencode",
        "seconds": round(supercut.seconds, 3),
        **({"error": supercut.error} if supercut.error else {}),
    }


def video_record(video: VideoSummary) -> dict[str, Any]:
    return {
        "path": video.path,
        "fps": round(float(video.fps), 6),
        "fps_rational": rational_text(video.fps),
        "frame_count": video.frame_count,
        "duration": seconds(video.duration),
        "width": video.width,
        "height": video.height,
        "has_audio": video.has_audio,
        "audio_streams": video.audio_streams,
        "rotation": video.rotation,
        "start_time": seconds(video.start_time),
        "variable_frame_rate": video.variable_frame_rate,
    }


def segment_record(
    index: int,
    segment: Segment,
    clip: ClipOutcome,
    by_frame: Mapping[int, FrameFaces],
    matches: Mapping[int, Match],
    clock: FrameClock,
    padding: Fraction,
) -> dict[str, Any]:
    """One appearance: its frames and times, its clip's, and every matched detection."""
    first, last = clip_frames(segment, clock, padding)
    detections = [
        detection_record(by_frame[frame], matches[frame], clock)
        for frame in range(segment.start_frame, segment.end_frame + 1)
        if frame in by_frame and frame in matches
    ]
    doc: dict[str, Any] = {
        "index": index,
        "clip": clip.file,
        "start_frame": segment.start_frame,
        "end_frame": segment.end_frame,
        "start_time": seconds(segment.start_time(clock)),
        "end_time": seconds(segment.end_time(clock)),
        "duration": seconds(segment.duration(clock)),
        "clip_start_frame": first,
        "clip_end_frame": last,
        "clip_start_time": seconds(clock.start_of(first)),
        "clip_end_time": seconds(clock.end_of(last)),
        # how the clip was cut, and the source frames it really shows (a keyframe
        # copy starts before clip_start_frame; None where that is not known)
        "clip_cut": clip.method,
        "clip_first_frame_shown": clip.first_frame,
        "clip_last_frame_shown": clip.last_frame,
        "best_distance": min(
            (d["distance"] for d in detections if d["distance"] is not None), default=None
        ),
        "frames_matched_by_track": sum(1 for d in detections if d["matched_by"] == "track"),
        "detections": detections,
    }
    if clip.error:
        doc["error"] = clip.error
    return doc
