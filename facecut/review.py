"""Results a person can look at: timeline.png (a lane per person searched: their best
distance over time, the threshold, their segments shaded) and index.html (a section per
person: a thumbnail of each appearance's best frame with the face box drawn, its times
and distances, a player for its clip), viewable offline.

The page is pure text built from the metadata document; drawing and frame grabbing
are the only I/O here.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .decode import read_frames
from .errors import FacecutError
from .probe import VideoInfo
from .segments import FrameFaces
from .timecode import FrameClock

log = logging.getLogger(__name__)

TIMELINE = "timeline.png"
PAGE = "index.html"
THUMB_WIDTH = 480
FACE_HEIGHT = 160  # a found person's face photo on the page
MAX_LANES = 24  # timeline.png's lanes; the rest of the people are on the page below


class Lane(NamedTuple):
    """One person's row of timeline.png."""

    name: str
    times: list[float]  # each analysed frame where some face was embedded, in order
    distances: list[float]  # that frame's smallest distance to this person
    segments: list[tuple[float, float]]  # their appearances: (start, end) seconds


def several_people(document: Mapping[str, Any]) -> bool:
    """Several people searched: names then tell their appearances apart (each
    person's are numbered from 1)."""
    return len(document["people"]) > 1


def thumbnail_name(index: int, person: str | None = None) -> str:
    """thumb_3.jpg; thumb_host_3.jpg when several people are searched (person names
    are safe file names: the CLI checks them)."""
    return f"thumb_{index}.jpg" if person is None else f"thumb_{person}_{index}.jpg"


def thumbnail_key(segment: Mapping[str, Any]) -> tuple[str, int]:
    """An appearance's key in the thumbnails mapping: its index is per person."""
    return str(segment["person"]), int(segment["index"])


def best_distances(
    frames: Sequence[FrameFaces], clock: FrameClock, person: int
) -> tuple[list[float], list[float]]:
    """(time, smallest distance to `person`) for every frame in `frames` (in their
    order) with an embedded face."""
    times: list[float] = []
    best: list[float] = []
    for frame in frames:
        distances = [face.distances[person] for face in frame.faces if face.distances]
        if distances:
            times.append(float(clock.start_of(frame.frame)))
            best.append(min(distances))
    return times, best


def timeline_lanes(
    frames: Sequence[FrameFaces], clock: FrameClock, document: Mapping[str, Any]
) -> list[Lane]:
    """timeline.png's data: a lane per person searched, in the document's order."""
    ordered = sorted(frames, key=lambda f: f.frame)
    lanes = []
    for person, entry in enumerate(document["people"]):
        times, distances = best_distances(ordered, clock, person)
        shaded = [
            (float(segment["start_time"]), float(segment["end_time"]))
            for segment in document["segments"]
            if segment["person"] == entry["name"]
        ]
        lanes.append(Lane(str(entry["name"]), times, distances, shaded))
    return lanes


def write_timeline(
    path: Path,
    frames: Sequence[FrameFaces],
    clock: FrameClock,
    document: Mapping[str, Any],
    threshold: float,
) -> None:
    """One lane per person, stacked on one time axis, so whose appearance is where
    reads straight down; each lane has the threshold and that person's segments."""
    # A bare Figure on the Agg canvas: files only, never a window, and pyplot (its
    # import alone took ~0.9 s here) is not needed; safe off the main thread too.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # nobody found (no photo, no faces): one empty lane, the video's time axis only.
    # At most MAX_LANES (the first in the document: with no photo, the most seen):
    # a lane is 200 px, and Agg draws no picture over 65,536 px high.
    lanes = timeline_lanes(frames, clock, document)[:MAX_LANES] or [
        Lane("no one found", [], [], [])
    ]
    # 3 inches for one lane, as the one-person picture always was; 2 more per lane
    figure = Figure(figsize=(10, 1 + 2 * len(lanes)), dpi=100)
    FigureCanvasAgg(figure)
    # one distance scale too: the threshold is everyone's, so lanes compare by eye
    grid = figure.subplots(nrows=len(lanes), ncols=1, sharex=True, sharey=True, squeeze=False)
    video = Path(document["video"]["path"]).name
    for axes, lane in zip(grid[:, 0], lanes, strict=True):
        for start, end in lane.segments:
            axes.axvspan(start, end, color="tab:green", alpha=0.25, linewidth=0)
        axes.plot(
            lane.times,
            lane.distances,
            ".",
            markersize=2,
            color="tab:blue",
            label="best distance in frame",
        )
        axes.axhline(threshold, color="tab:red", linewidth=1, label=f"threshold {threshold}")
        axes.set_ylabel("distance")
        # one lane keeps the one title line the picture always had
        axes.set_title(lane.name if len(lanes) > 1 else f"{video}: {lane.name}", fontsize=9)
        axes.legend(loc="upper right", fontsize=7)
    bottom = grid[-1, 0]
    bottom.set_xlim(0, max(float(document["video"]["duration"]), 1e-3))
    bottom.set_xlabel("time (s)")
    if len(lanes) > 1:
        figure.suptitle(video, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)


def best_detection(segment: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The segment's detection with the smallest distance (else its first)."""
    detections = segment["detections"]
    embedded = [d for d in detections if d["distance"] is not None]
    if embedded:
        best: Mapping[str, Any] = min(embedded, key=lambda d: d["distance"])
        return best
    return detections[0] if detections else None


def draw_thumbnail(frame: np.ndarray, box: Mapping[str, int], path: Path) -> None:
    """The frame, scaled to THUMB_WIDTH wide, with the face box drawn, as JPEG."""
    import cv2

    scale = min(1.0, THUMB_WIDTH / frame.shape[1])
    image = (
        cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else frame.copy()
    )
    x0, y0 = round(box["x"] * scale), round(box["y"] * scale)
    x1, y1 = round((box["x"] + box["w"]) * scale), round((box["y"] + box["h"]) * scale)
    cv2.rectangle(image, (x0, y0), (x1, y1), (0, 200, 0), 2)
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise OSError(f"cannot write {path}")


def review_page(
    document: Mapping[str, Any],
    thumbnails: Mapping[tuple[str, int], str],
    timeline: str | None,
) -> str:
    """index.html: every reference is a file beside it; no external request. A section
    per person searched, in the document's order, with their appearances; `thumbnails`
    is keyed by thumbnail_key."""
    video = document["video"]
    name = html.escape(Path(video["path"]).name)
    several = several_people(document)
    cut = document["settings"]["cut"]
    # people found with no photo: the most on screen first (named ones: as given)
    people = document["people"]
    if document["settings"].get("discovery") is not None:
        people = sorted(people, key=lambda person: -person["seconds_on_screen"])
    sections = [
        _person_html(
            person,
            [s for s in document["segments"] if s["person"] == person["name"]],
            thumbnails,
            cut,
            several,
        )
        for person in people
    ]
    summary = document["summary"]
    timeline_html = (
        f'<img src="{html.escape(timeline)}" alt="distance over time" class="timeline">'
        if timeline
        else ""
    )
    body = "\n".join(sections) or "<p>No one was found.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>facecut: {name}</title>
<style>body{{font-family:sans-serif;margin:1em 2em}}.segment{{margin:1.5em 0}}
.timeline{{max-width:100%}}video,img{{display:block;margin:.3em 0}}</style>
</head><body>
<h1>{name}</h1>
<p>{summary["segments"]} appearance(s), {summary["seconds_on_screen"]:.2f} s on screen;
threshold {document["settings"]["threshold"]} ({html.escape(document["settings"]["metric"])},
{html.escape(document["settings"]["model"])}).</p>
{timeline_html}
{body}
</body></html>
"""


def _person_html(
    person: Mapping[str, Any],
    segments: Sequence[Mapping[str, Any]],
    thumbnails: Mapping[tuple[str, int], str],
    cut: str,
    several: bool,
) -> str:
    """One person's section: their name, count and screen time, then each appearance."""
    name = html.escape(str(person["name"]))
    rows = [
        _appearance_html(segment, thumbnails.get(thumbnail_key(segment)), cut, several)
        for segment in segments
    ]
    found = "\n".join(rows) if rows else f"<p>{name} was not found.</p>"
    # found with no photo: their clearest face (portraits.py), beside the results
    face = person.get("face")
    portrait = (
        f'<img src="{html.escape(face)}" alt="{name}" class="face" height="{FACE_HEIGHT}">\n'
        if face
        else ""
    )
    return (
        f'<section class="person" id="person-{name}">\n<h2>{name}</h2>\n{portrait}'
        f"<p>{person['segments']} appearance(s), {person['seconds_on_screen']:.2f} s "
        f"on screen</p>\n{found}\n</section>"
    )


def _appearance_html(segment: Mapping[str, Any], thumb: str | None, cut: str, several: bool) -> str:
    """One appearance's section: its picture, times, distances and player. Its id and
    alt text name the person when several are searched (indices are per person)."""
    index = segment["index"]
    person = html.escape(str(segment["person"]))
    anchor = f"segment-{person}-{index}" if several else f"segment-{index}"
    alt = f"{person} appearance {index}" if several else f"appearance {index}"
    picture = (
        f'<img src="{html.escape(thumb)}" alt="{alt}" width="{THUMB_WIDTH}">'
        if thumb
        else "<p>(no picture)</p>"
    )
    clip = segment["clip"]
    if clip:
        player = (
            f'<video controls preload="metadata" src="{html.escape(clip)}" '
            f'width="{THUMB_WIDTH}"></video>'
        )
    else:
        why = "dry run" if cut == "none" else html.escape(segment.get("error", "not cut"))
        player = f"<p>(no clip: {why})</p>"
    distances = [d["distance"] for d in segment["detections"] if d["distance"] is not None]
    mean = f"{sum(distances) / len(distances):.3f}" if distances else "n/a"
    best = "n/a" if segment["best_distance"] is None else f"{segment['best_distance']:.3f}"
    return (
        f'<section class="segment" id="{anchor}">\n'
        f"<h3>Appearance {index}</h3>\n{picture}\n"
        f"<p>{segment['start_time']:.3f} s to {segment['end_time']:.3f} s "
        f"({segment['duration']:.3f} s; frames {segment['start_frame']} to "
        f"{segment['end_frame']}), best distance {best}, mean {mean}, "
        f"{segment['frames_matched_by_track']} frame(s) matched by track</p>\n"
        f"{player}\n</section>"
    )


def draw_pictures(
    video: VideoInfo,
    frames: Sequence[FrameFaces],
    document: Mapping[str, Any],
    threshold: float,
    folder: Path,
) -> tuple[str | None, dict[tuple[str, int], str]]:
    """timeline.png and a thumbnail per appearance in `folder`; returns the timeline's
    name (None if it failed) and each appearance's thumbnail, keyed by thumbnail_key.
    A failure here costs a picture, never the clips or metadata: it is reported as a
    warning."""
    timeline: str | None = TIMELINE
    try:
        write_timeline(folder / TIMELINE, frames, video.clock, document, threshold)
    except (ImportError, OSError, ValueError) as error:
        log.warning(f"{video.path}: no {TIMELINE} ({error})")
        timeline = None
    several = several_people(document)

    def thumbnail(segment: Mapping[str, Any]) -> str | None:
        best = best_detection(segment)
        if best is None:
            return None
        person, index = thumbnail_key(segment)
        name = thumbnail_name(index, person if several else None)
        try:
            for _, frame in read_frames(video, best["frame"], best["frame"] + 1):
                draw_thumbnail(frame, best["box"], folder / name)
                return name
        except (OSError, FacecutError) as error:
            whose = f"{person}'s appearance" if several else "appearance"
            log.warning(f"{video.path}: no thumbnail for {whose} {index} ({error})")
        return None

    # Each thumbnail decodes from the keyframe before its frame (~0.5 s of 720p here):
    # two at a time.
    with ThreadPoolExecutor(max_workers=2) as executor:
        names = list(executor.map(thumbnail, document["segments"]))
    return timeline, {
        thumbnail_key(segment): name
        for segment, name in zip(document["segments"], names, strict=True)
        if name is not None
    }
