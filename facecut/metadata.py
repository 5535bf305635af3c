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
# 4: several people in one scan: "people"; each segment and reference names its
#    person; segments are numbered per person; a detection's distance is to its person
SCHEMA_VERSION = 4


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
    """One reference photo, whose it is, and the face taken from it."""

    path: str
    faces_found: int
    box: Mapping[str, int]
    person: str = ""


@dataclass(frozen=True)
class PersonResult:
    """One person's appearances in the video, their clips and why each frame counts."""

    name: str
    folder: str  # where their clips are in the results folder ("": at its top)
    segments: Sequence[Segment]
    clips: Sequence[ClipOutcome]  # clips[i] is the outcome for segments[i]
    matches: Mapping[int, Match]  # frame -> the face that shows them
    face: str | None = None  # found with no photo: their face photo (people/person_N.jpg)


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


def detection_record(
    result: FrameFaces, match: Match, clock: FrameClock, person: int = 0
) -> dict[str, Any]:
    """The face that shows person `person` in a frame, as metadata shows it."""
    face = match.face
    box = face.box
    return {
        "frame": result.frame,
        "time": seconds(clock.start_of(result.frame)),
        "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
        # to this person; None when the face was not embedded on this frame (its track
        # vouches for it)
        "distance": None if not face.distances else round(face.distances[person], 4),
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
        # with no photo (the people are found by grouping face tracks), else null
        "discovery": None
        if config.discovery is None
        else {
            "link_distance": config.discovery.link_distance,
            "min_frames": config.discovery.min_frames,
            "min_face": config.discovery.min_face,
            "people_cut": list(config.discovery.selected),
        },
    }


def build_metadata(
    video: VideoSummary,
    references: Sequence[ReferenceSummary],
    config: Config,
    clock: FrameClock,
    people: Sequence[PersonResult],
    results: Sequence[FrameFaces],
    stats: Stats,
    supercut: SupercutOutcome | None = None,
) -> dict[str, Any]:
    """Assemble metadata.json: `people` in Config.people's order."""
    if any(len(person.clips) != len(person.segments) for person in people):
        raise ValueError("one clip outcome per segment is required")
    by_frame = {result.frame: result for result in results}
    segments = [
        segment_record(index, segment, clip, by_frame, person, number, clock, config.cut.padding)
        for number, person in enumerate(people)
        for index, (segment, clip) in enumerate(
            zip(person.segments, person.clips, strict=True), start=1
        )
    ]
    clips = [clip for person in people for clip in person.clips]
    return {
        "schema_version": SCHEMA_VERSION,
        "video": video_record(video),
        # every face compared against; a face's distance to a person is to the
        # closest of their photos
        "references": [
            {
                "path": reference.path,
                "person": reference.person,
                "faces_found": reference.faces_found,
                "box": dict(reference.box),
                "embedding_source": "largest face in the photo",
            }
            for reference in references
        ],
        "people": [person_record(person, references, clock) for person in people],
        "settings": settings_record(config),
        # everyone's, person after person, each person's in time order
        "segments": segments,
        # --supercut: every appearance in one file (null without --supercut)
        "supercut": None if supercut is None else supercut_record(supercut),
        "summary": {
            "segments": len(segments),
            # of anyone searched: time with at least one of them on screen
            "seconds_on_screen": seconds(on_screen([s for p in people for s in p.segments], clock)),
            **clip_counts(clips),
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


def clip_counts(clips: Sequence[ClipOutcome]) -> dict[str, int]:
    """The clips written, and the clips that failed."""
    return {
        "clips_written": sum(1 for clip in clips if clip.file and not clip.error),
        "clips_failed": sum(1 for clip in clips if clip.error),
    }


def on_screen(segments: Sequence[Segment], clock: FrameClock) -> Fraction:
    """The time covered by the segments, overlaps counted once."""
    total, reached = Fraction(0), -1
    for segment in sorted(segments, key=lambda s: s.start_frame):
        first = max(segment.start_frame, reached + 1)
        if first <= segment.end_frame:
            total += clock.end_of(segment.end_frame) - clock.start_of(first)
            reached = segment.end_frame
    return total


def person_record(
    person: PersonResult,
    references: Sequence[ReferenceSummary],
    clock: FrameClock,
) -> dict[str, Any]:
    """One person searched: their photos, where their clips are, and their totals."""
    return {
        "name": person.name,
        "references": [r.path for r in references if r.person == person.name],
        "folder": person.folder,
        "face": person.face,
        "segments": len(person.segments),
        "seconds_on_screen": seconds(on_screen(person.segments, clock)),
        **clip_counts(person.clips),
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
    person: PersonResult,
    number: int,
    clock: FrameClock,
    padding: Fraction,
) -> dict[str, Any]:
    """One appearance of `person` (number `number` in Config.people): its frames and
    times, its clip's, and every matched detection."""
    first, last = clip_frames(segment, clock, padding)
    matches = person.matches
    detections = [
        detection_record(by_frame[frame], matches[frame], clock, number)
        for frame in range(segment.start_frame, segment.end_frame + 1)
        if frame in by_frame and frame in matches
    ]
    doc: dict[str, Any] = {
        "person": person.name,
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
