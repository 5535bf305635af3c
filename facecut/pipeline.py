"""One video's run: probe → plan → scan → analyse → cut → write → commit.

`run` is that list of steps. Each step is a function below. The rules that turn chunk
results into appearances live in analysis.py (pure). The I/O is behind one module per
job: probing, decoding, cutting, the face models (in the scan's workers), the results
folder.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import review, timelines
from .analysis import (
    EXIT_FOUND,
    EXIT_NOT_FOUND,
    Analysis,
    ChunkResult,
    analyse,
    exit_code,
    face_distances,
    refinement,
)
from .cache import CacheKey, ScanCache
from .config import Config, Job, ScanSettings
from .cut import cut_clips, cut_supercut
from .errors import VideoError
from .exports import segments_csv
from .faces import FaceEngine
from .metadata import (
    ClipOutcome,
    ReferenceSummary,
    Stats,
    SupercutOutcome,
    VideoSummary,
    build_metadata,
)
from .output import METADATA, ResultsFolder
from .planning import Chunk, plan_chunks
from .probe import VideoInfo, probe
from .scan import ScanBackend, scan
from .segments import supercut_ranges

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class References:
    """The reference photos' embeddings (one row each) and what metadata says of them."""

    embeddings: np.ndarray
    photos: tuple[ReferenceSummary, ...]


@dataclass(frozen=True)
class RunReport:
    exit_code: int
    output: Path
    segments: int
    seconds_on_screen: float
    clips_failed: int
    # --calibrate: every embedded face's distance to the closest photo (nothing written)
    distances: tuple[float, ...] | None = None
    threshold: float = 0.0
    metric: str = ""


@dataclass(frozen=True)
class Scanned:
    """A video's scan: every chunk's result and what it cost."""

    results: list[ChunkResult]
    seconds: float
    chunks: int  # first-pass chunks planned
    from_cache: int  # chunks read from the scan cache


@dataclass(frozen=True)
class Inputs:
    """What one video's run starts from, handed to every step."""

    config: Config
    job: Job
    video: VideoInfo
    references: References


@dataclass(frozen=True)
class Clips:
    """The cut step's outcome: a clip per appearance, and the review page's pictures
    drawn meanwhile."""

    outcomes: list[ClipOutcome]
    seconds: float  # spent cutting (the supercut included)
    timeline: str | None = None  # its file name; None if it could not be drawn
    thumbnails: dict[int, str] = field(default_factory=dict)  # appearance -> file name
    supercut: SupercutOutcome | None = None  # --supercut


def run(
    config: Config,
    job: Job,
    references: References,
    backend: ScanBackend | None = None,
    video: VideoInfo | None = None,
    results: ResultsFolder | None = None,
) -> RunReport:
    """Find the person in one video and write the results folder, all or nothing.
    `backend` runs the scan's chunks (None: a local pool of `config.processes`);
    `video` is the job's video if the caller probed it already; `results` its
    results folder, if the caller opened (locked) it already."""
    started = time.monotonic()
    video = video if video is not None else probe_video(job)
    this = Inputs(config, job, video, references)
    if results is None:
        results = results_folder(config, job)
        results.open()
    staging = results.staging
    assert staging is not None
    try:
        chunks, cache = plan(this, backend)
        scanned = scan_video(this, chunks, cache, backend)
        found = analyse_scan(this, scanned)
        if config.output.calibrate:
            results.abort()  # nothing but the scan cache is kept
            return calibration_report(this, found)
        clips = cut(this, found, scanned, staging)
        document = describe(this, found, scanned, clips, time.monotonic() - started)
        write(results, document, clips)
        results.commit()
    except BaseException:
        results.abort()
        raise
    return report(job, document)


# ---------------------------------------------------------------- the steps


def results_folder(config: Config, job: Job) -> ResultsFolder:
    """The job's results folder, not yet opened (locked)."""
    # --calibrate writes no results, so earlier ones need no --overwrite
    return ResultsFolder(
        job.output,
        config.output.overwrite or config.output.calibrate,
        protect=(Path(job.video), *map(Path, config.references)),
    )


def probe_video(job: Job) -> VideoInfo:
    """The job's video, probed (VideoError, one line, for anything that is not one)."""
    video = probe(job.video)
    if video.rotation:
        log.info(
            f"video is rotated {video.rotation} degrees; analysing it as displayed "
            f"({video.width}x{video.height})"
        )
    return video


def plan(this: Inputs, backend: ScanBackend | None) -> tuple[list[Chunk], ScanCache | None]:
    """The first pass's chunks, and the scan cache they are kept in. A cached plan is
    reused as it was, so a rerun with another --num_processes finds its chunks."""
    config, job, video = this.config, this.job, this.video
    cache = (
        ScanCache(job.output, CacheKey.of(job.video, config.references, config.scan))
        if config.output.cache
        else None
    )
    planned = cache.plan() if cache is not None else None
    if planned is not None:
        log.debug(f"{job.video}: {len(planned)} chunks, as planned by the scan cache's run")
        return planned, cache
    workers = backend.chunk_count(video) if backend is not None else config.processes
    chunks = plan_chunks(video.frame_count, workers, config.scan.interval)
    if cache is not None:
        cache.save_plan(chunks)
    log.debug(
        f"{job.video}: {len(chunks)} chunks of frames "
        f"{', '.join(f'{c.start_frame}-{c.stop_frame - 1}' for c in chunks)}, "
        f"analysing every {config.scan.interval} frame(s)"
    )
    return chunks, cache


def scan_video(
    this: Inputs, chunks: Sequence[Chunk], cache: ScanCache | None, backend: ScanBackend | None
) -> Scanned:
    """Scan the chunks (those the cache lacks), then refine every edge."""
    config, job, video, references = this.config, this.job, this.video, this.references

    def follow_up(first_pass: list[ChunkResult]) -> list[Chunk]:
        more = refinement(
            first_pass, video.clock, config.scan, config.segments, (video.width, video.height)
        )
        if more:
            log.debug(
                f"{job.video}: refining frames "
                f"{', '.join(f'{c.start_frame}-{c.stop_frame - 1}' for c in more)}"
            )
        return more

    started = time.monotonic()
    progress = config.output.progress
    runner = (
        None
        if backend is None
        else backend.runner(video, config.scan, references.embeddings, progress, job.bar_offset)
    )
    results = scan(
        video,
        chunks,
        config.scan,
        references.embeddings,
        progress,
        bar_offset=job.bar_offset,
        follow_up=follow_up,
        store=cache,
        processes=config.processes,
        runner=runner,
    )
    from_cache = cache.loaded if cache is not None else 0
    if cache is not None and from_cache and from_cache == len(results):
        log.info(
            f"{job.video}: scan read from the cache in {cache.folder} "
            "(no frame scanned); only segments, clips and the review page were made anew"
        )
    elif from_cache:
        log.info(
            f"{job.video}: {from_cache} of {len(results)} scan chunks read from the "
            "cache (resumed); the rest were scanned"
        )
    return Scanned(results, time.monotonic() - started, len(chunks), from_cache)


def analyse_scan(this: Inputs, scanned: Scanned) -> Analysis:
    video, config = this.video, this.config
    try:
        found = analyse(
            scanned.results, video.clock, video.declared_frames, config.scan, config.segments
        )
    except VideoError as error:
        raise VideoError(f"{this.job.video}: {error}") from None
    if found.frames_missing:
        log.warning(
            f"{this.job.video}: {found.frames_missing} frame(s) could not be decoded "
            "(truncated or damaged file); results cover what decodes"
        )
    return found


def calibration_report(this: Inputs, found: Analysis) -> RunReport:
    config = this.config
    return RunReport(
        EXIT_FOUND if found.matches else EXIT_NOT_FOUND,
        this.job.output,
        0,
        0.0,
        0,
        distances=face_distances(found.frames),
        threshold=config.segments.threshold,
        metric=config.scan.metric,
    )


def cut(this: Inputs, found: Analysis, scanned: Scanned, staging: Path) -> Clips:
    """Cut the clips; meanwhile a side thread draws the review page's pictures (they
    need only the segments and detections, and are mostly in-process work)."""
    config, video = this.config, this.video
    none = [ClipOutcome(None) for _ in found.segments]
    draft = describe(this, found, scanned, Clips(none, 0.0), 0.0)
    with ThreadPoolExecutor(max_workers=1) as side:
        pictures = side.submit(
            review.draw_pictures, video, found.frames, draft, config.segments.threshold, staging
        )
        started = time.monotonic()
        outcomes = (
            none if config.cut.mode == "none" else cut_clips(video, found.segments, config, staging)
        )
        supercut = None
        if config.output.supercut and found.segments and config.cut.mode != "none":
            ranges = supercut_ranges(found.segments, video.clock, config.cut.padding)
            supercut = cut_supercut(video, ranges, config, staging)
        seconds = time.monotonic() - started
        try:
            timeline, thumbnails = pictures.result()
        except Exception as error:  # noqa: BLE001 - a picture never costs the clips
            log.warning(f"{video.path}: no review pictures ({type(error).__name__}: {error})")
            timeline, thumbnails = None, {}
    return Clips(outcomes, seconds, timeline, thumbnails, supercut)


def describe(
    this: Inputs, found: Analysis, scanned: Scanned, clips: Clips, seconds_total: float
) -> dict[str, Any]:
    """The metadata.json document."""
    stats = Stats(
        frames_analysed=len(found.frames),
        frames_decoded=found.frames_decoded,
        seconds_scan=scanned.seconds,
        seconds_cut=clips.seconds,
        seconds_total=seconds_total,
        workers=scanned.chunks,
        extra={
            "frames_per_second": round(len(found.frames) / scanned.seconds, 2)
            if scanned.seconds > 0
            else None,
            "frames_refined": found.frames_refined,
            "chunks_from_cache": scanned.from_cache,
            "backend": this.config.backend,
        },
    )
    return build_metadata(
        video=video_summary(this.video),
        references=this.references.photos,
        config=this.config,
        clock=this.video.clock,
        segments=found.segments,
        clips=clips.outcomes,
        results=found.frames,
        matches=found.matches,
        stats=stats,
        supercut=clips.supercut,
    )


def write(results: ResultsFolder, document: dict[str, Any], clips: Clips) -> None:
    """Everything but the clips (already in the staging folder)."""
    page = review.review_page(document, clips.thumbnails, clips.timeline)
    results.write_text(review.PAGE, page)
    results.write_text("segments.csv", segments_csv(document))
    for name in timelines.FILES:
        try:
            text = timelines.timeline_text(document, name)
        except timelines.TimelineError as error:  # that format only: the others are written
            log.warning(str(error))
            continue
        results.write_text(name, text)
    results.write_json(METADATA, document)


def report(job: Job, document: dict[str, Any]) -> RunReport:
    failed = [segment["error"] for segment in document["segments"] if segment.get("error")]
    if document["supercut"] and document["supercut"].get("error"):
        failed.append(document["supercut"]["error"])  # asked for and missing: an error
    for error in failed:
        log.warning(error)
    segments = len(document["segments"])
    return RunReport(
        exit_code(segments, len(failed)),
        job.output,
        segments,
        document["summary"]["seconds_on_screen"],
        len(failed),
    )


# ---------------------------------------------------------------- helpers


def video_summary(video: VideoInfo) -> VideoSummary:
    return VideoSummary(
        path=video.path,
        fps=video.fps,
        frame_count=video.frame_count,
        duration=video.duration,
        width=video.width,
        height=video.height,
        has_audio=video.has_audio,
        audio_streams=video.audio_streams,
        rotation=video.rotation,
        start_time=video.start_time,
        variable_frame_rate=video.variable_frame_rate,
    )


def embed_references(paths: Sequence[str], scan: ScanSettings, workers: Any = None) -> References:
    """Embed the largest face of every reference photo: on `workers` (a started
    LocalBackend, whose models are loaded anyway), else here, with one model load."""
    if workers is not None:
        found = workers.embed_photos(paths)
    else:
        engine = FaceEngine(scan.model, scan.detector, scan.detect_size)
        found = [engine.embed_reference(path) for path in paths]
    rows = []
    photos = []
    for path, reference in zip(paths, found, strict=True):
        if reference.faces_found > 1:
            sizes = ", ".join(f"{box.w}x{box.h}" for box in reference.other_faces)
            log.warning(
                f"{path}: {reference.faces_found} faces in the reference photo; using "
                f"the largest ({reference.box.w}x{reference.box.h} px), ignoring {sizes}"
            )
        rows.append(reference.embedding)
        box = reference.box
        photos.append(
            ReferenceSummary(
                path=os.path.abspath(path),
                faces_found=reference.faces_found,
                box={"x": box.x, "y": box.y, "w": box.w, "h": box.h},
            )
        )
    return References(np.vstack(rows), tuple(photos))
