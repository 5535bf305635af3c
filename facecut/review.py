"""Results a person can look at: timeline.png (best distance over time, threshold,
segments shaded) and index.html (a thumbnail of each appearance's best frame with the
face box drawn, its times and distances, a player for its clip), viewable offline.

The page is pure text built from the metadata document; drawing and frame grabbing
are the only I/O here.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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


def thumbnail_name(index: int) -> str:
    return f"thumb_{index}.jpg"


def timeline_points(
    frames: Sequence[FrameFaces], clock: FrameClock
) -> tuple[list[float], list[float]]:
    """(time, best distance) for every analysed frame with an embedded face."""
    times: list[float] = []
    best: list[float] = []
    for frame in sorted(frames, key=lambda f: f.frame):
        face = frame.best()
        if face is not None and face.distance is not None:
            times.append(float(clock.start_of(frame.frame)))
            best.append(face.distance)
    return times, best


def write_timeline(
    path: Path,
    frames: Sequence[FrameFaces],
    clock: FrameClock,
    document: Mapping[str, Any],
    threshold: float,
) -> None:
    # A bare Figure on the Agg canvas: files only, never a window, and pyplot (its
    # import alone took ~0.9 s here) is not needed; safe off the main thread too.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    times, best = timeline_points(frames, clock)
    figure = Figure(figsize=(10, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for segment in document["segments"]:
        axes.axvspan(
            segment["start_time"], segment["end_time"], color="tab:green", alpha=0.25, linewidth=0
        )
    axes.plot(times, best, ".", markersize=2, color="tab:blue", label="best distance in frame")
    axes.axhline(threshold, color="tab:red", linewidth=1, label=f"threshold {threshold}")
    axes.set_xlim(0, max(float(document["video"]["duration"]), 1e-3))
    axes.set_xlabel("time (s)")
    axes.set_ylabel("distance")
    axes.set_title(Path(document["video"]["path"]).name, fontsize=9)
    axes.legend(loc="upper right", fontsize=7)
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
    document: Mapping[str, Any], thumbnails: Mapping[int, str], timeline: str | None
) -> str:
    """index.html: every reference is a file beside it; no external request."""
    video = document["video"]
    name = html.escape(Path(video["path"]).name)
    rows = [
        _appearance_html(segment, thumbnails.get(segment["index"]), document["settings"]["cut"])
        for segment in document["segments"]
    ]
    summary = document["summary"]
    timeline_html = (
        f'<img src="{html.escape(timeline)}" alt="distance over time" class="timeline">'
        if timeline
        else ""
    )
    body = "\n".join(rows) if rows else "<p>The person was not found.</p>"
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


def _appearance_html(segment: Mapping[str, Any], thumb: str | None, cut: str) -> str:
    """One appearance's section: its picture, times, distances and player."""
    index = segment["index"]
    picture = (
        f'<img src="{html.escape(thumb)}" alt="appearance {index}" width="{THUMB_WIDTH}">'
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
        f'<section class="segment" id="segment-{index}">\n'
        f"<h2>Appearance {index}</h2>\n{picture}\n"
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
) -> tuple[str | None, dict[int, str]]:
    """timeline.png and a thumbnail per appearance in `folder`; returns the timeline's
    name (None if it failed) and each appearance's thumbnail. A failure here costs a
    picture, never the clips or metadata: it is reported as a warning."""
    timeline: str | None = TIMELINE
    try:
        write_timeline(folder / TIMELINE, frames, video.clock, document, threshold)
    except (ImportError, OSError, ValueError) as error:
        log.warning(f"{video.path}: no {TIMELINE} ({error})")
        timeline = None

    def thumbnail(segment: Mapping[str, Any]) -> str | None:
        best = best_detection(segment)
        if best is None:
            return None
        name = thumbnail_name(segment["index"])
        try:
            for _, frame in read_frames(video, best["frame"], best["frame"] + 1):
                draw_thumbnail(frame, best["box"], folder / name)
                return name
        except (OSError, FacecutError) as error:
            log.warning(f"{video.path}: no thumbnail for appearance {segment['index']} ({error})")
        return None

    # Each thumbnail decodes from the keyframe before its frame (~0.5 s of 720p here):
    # two at a time.
    with ThreadPoolExecutor(max_workers=2) as executor:
        names = list(executor.map(thumbnail, document["segments"]))
    return timeline, {
        segment["index"]: name
        for segment, name in zip(document["segments"], names, strict=True)
        if name is not None
    }
