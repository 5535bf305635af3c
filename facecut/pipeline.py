"""One run of the tool: probe, embed the reference, scan, merge, cut, write."""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import blazeface, review
from .errors import FacecutError, Interrupted, VideoError
from .cache import CacheKey, ScanCache, file_digest
from .exports import segments_csv, segments_edl
from .faces import FaceEngine, default_threshold, distance
from .cut import ClipJob, cut_clip
from .decode import SEEK_MARGIN, read_frames
from .probe import VideoInfo, probe
from .process import children

# Audio codecs an mp4 clip can carry as they are (--copy copies them; others are
# re-encoded to AAC).
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}
from .metadata import (ClipOutcome, ReferenceSummary, Settings, Stats, VideoSummary,
                       build_metadata)
from .output import METADATA, ResultsFolder
from .planning import Chunk, plan_chunks, plan_refinement
from .presets import Preset
from .scan import ChunkResult, EngineSettings, ScanBackend, scan
from .segments import (FrameFaces, Match, Segment, clip_frames, edges_to_refine, frame_ranges,
                       lost_near_matches, match_frames, merge_segments)
from .tracking import join_tracks, track_distances

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    video: str
    references: tuple[str, ...]
    output: Path
    interval: int
    preset: Preset
    processes: int
    threshold: float | None
    model: str
    detector: str
    min_gap: Fraction
    min_duration: Fraction
    padding: Fraction
    copy: bool
    overwrite: bool
    show_bars: bool = True
    dry_run: bool = False  # scan and write metadata.json, cut no clips
    cache: bool = True  # keep the scan next to the results; reuse it when it fits
    calibrate: bool = False  # scan, then report face distances instead of cutting
    bar_offset: int = 0  # terminal lines above the worker bars
    backend: ScanBackend | None = None  # None: a local pool of `processes` workers


@dataclass(frozen=True)
class References:
    """The reference photos' embeddings (one row each) and what metadata says of them."""

    embeddings: np.ndarray
    photos: tuple[ReferenceSummary, ...]


def embed_references(paths: Sequence[str], model: str, detector: str,
                     detect_size: int, workers: Any = None) -> References:
    """Embed the largest face of every reference photo: on `workers` (a started
    LocalBackend, whose models are loaded anyway), else here, with one model load."""
    if workers is not None:
        found = workers.embed_photos(paths)
    else:
        engine = FaceEngine(model, detector, detect_size)
        found = [engine.embed_reference(path) for path in paths]
    rows = []
    photos = []
    for path, reference in zip(paths, found):
        if reference.faces_found > 1:
            sizes = ", ".join(f"{box.w}x{box.h}" for box in reference.other_faces)
            log.warning(f"{path}: {reference.faces_found} faces in the reference photo; using the "
                     f"largest ({reference.box.w}x{reference.box.h} px), ignoring {sizes}")
        rows.append(reference.embedding)
        box = reference.box
        photos.append(ReferenceSummary(path=os.path.abspath(path),
                                       faces_found=reference.faces_found,
                                       box={"x": box.x, "y": box.y, "w": box.w, "h": box.h}))
    return References(np.vstack(rows), tuple(photos))


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


def engine_settings(model: str, detector: str, preset: Preset) -> EngineSettings:
    """What every worker scans with. Tracks split at a distance scaled from the
    model's own threshold, not --threshold: what a scan records must not depend on
    settings a cached rerun may change (the user's threshold applies when frames are
    labelled)."""
    metric, threshold = default_threshold(model)
    return EngineSettings(model, detector, preset.detect_size, metric, threshold)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(options: Options, references: References | None = None) -> RunReport:
    """One video: `references` may be embedded once for many videos; if not given,
    they are embedded here."""
    started = time.monotonic()
    video = probe(options.video)
    if video.rotation:
        log.info(f"video is rotated {video.rotation} degrees; analysing it as displayed "
                 f"({video.width}x{video.height})")
    metric, default = default_threshold(options.model)
    threshold = options.threshold if options.threshold is not None else default

    # --calibrate writes no results, so earlier ones need no --overwrite
    results = ResultsFolder(options.output, options.overwrite or options.calibrate,
                            protect=(Path(options.video), *map(Path, options.references)))
    if references is None:
        references = embed_references(options.references, options.model, options.detector,
                                      options.preset.detect_size)
    staging = results.open()
    try:
        report = _run_into(options, video, references, metric, threshold, results, staging,
                           started)
    except BaseException:
        results.abort()
        raise
    return report


def _refined_replace_first_pass(results: list[ChunkResult]) -> list[ChunkResult]:
    """A frame analysed again by edge refinement keeps only its refined analysis."""
    again = {frame.frame for result in results if result.chunk.refine for frame in result.frames}
    if not again:
        return results
    return [result if result.chunk.refine else replace(
        result, frames=tuple(frame for frame in result.frames if frame.frame not in again))
        for result in results]


def _run_into(options: Options, video: VideoInfo, references: References, metric: str,
              threshold: float, results: ResultsFolder, staging: Path,
              started: float) -> RunReport:
    settings = engine_settings(options.model, options.detector, options.preset)
    cache = None
    if options.cache:
        cache = ScanCache(options.output, CacheKey(
            video=file_digest(options.video),
            references=tuple(file_digest(path) for path in options.references),
            model=options.model, detector=options.detector,
            detect_size=options.preset.detect_size, interval=options.interval,
            full_detect_every=settings.full_detect_every))
    planned = cache.plan() if cache is not None else None
    workers = options.backend.chunk_count(video) if options.backend else options.processes
    chunks = planned or plan_chunks(video.frame_count, workers, options.interval)
    if cache is not None and planned is None:
        cache.save_plan(chunks)

    def label(chunk_results: list[ChunkResult]) -> dict[int, Match]:
        """Which analysed frames show the person: by their own face or by track."""
        seen = [frame for result in chunk_results for frame in result.frames]
        ends = {track: pair for result in chunk_results for track, pair in result.track_ends.items()}

        def same_person(earlier: int, later: int) -> bool:
            if earlier not in ends or later not in ends:
                return False
            return distance(ends[later][0], ends[earlier][1], metric) <= threshold

        joined = join_tracks(seen, same_person)
        return match_frames(seen, threshold, track_distances(seen, joined), joined,
                            veto=threshold * settings.split_factor)

    def refine(first_pass: list[ChunkResult]) -> list[Chunk]:
        """Analyse, searching the whole frame, the frames next to every edge that the
        first pass skipped (--interval > 1) or searched only near tracked faces."""
        matched = label(first_pass)
        partial = {frame for result in first_pass for frame in result.partial}
        if options.interval == 1 and not partial:
            return []
        # a frame searched only near tracked faces counts as a miss only if it matched
        reliable = [frame.frame for result in first_pass for frame in result.frames
                    if frame.frame not in partial or frame.frame in matched]
        # Sampled passes also look past a missed sample within min-gap of an edge: a
        # face lost there for a frame would have been bridged had every frame been seen.
        frame_duration = video.clock.typical_frame_duration()
        reach = 0 if options.interval == 1 or frame_duration <= 0 else \
            math.ceil(options.min_gap / frame_duration)
        ranges = edges_to_refine(reliable, sorted(matched), video.frame_count,
                                 max(options.interval, settings.full_detect_every), reach)
        # A tracked face lost by the near search between two matches (it moved fast,
        # turned): search those frames whole too, so a miss that is not reliable never
        # splits an appearance.
        lost = lost_near_matches(partial, matched, settings.full_detect_every)
        if lost:
            ranges = frame_ranges([f for a, b in ranges for f in range(a, b)] + lost)
        return plan_refinement(ranges, join_within=1)

    scan_started = time.monotonic()
    runner = None if options.backend is None else \
        options.backend.runner(video, settings, references.embeddings, options.show_bars,
                               options.bar_offset)
    chunk_results = scan(video, chunks, settings, references.embeddings, options.show_bars,
                         bar_offset=options.bar_offset, follow_up=refine, store=cache,
                         processes=options.processes, runner=runner)
    seconds_scan = time.monotonic() - scan_started
    cached = cache.loaded if cache is not None else 0
    if cache is not None and cached and cached == len(chunk_results):
        log.info(f"{options.video}: scan read from the cache in {cache.folder} "
                 "(no frame scanned); only segments, clips and the review page were made anew")
    elif cached:
        log.info(f"{options.video}: {cached} of {len(chunk_results)} scan chunks read from the "
                 "cache (resumed); the rest were scanned")
    # frames only the refinement pass analysed (it also re-analyses the sampled frame
    # between two nearby ranges it joined into one decoder)
    refined = len({frame.frame for result in chunk_results if result.chunk.refine
                   for frame in result.frames}
                  - {frame.frame for result in chunk_results if not result.chunk.refine
                     for frame in result.frames})
    chunk_results = _refined_replace_first_pass(chunk_results)

    frames: list[FrameFaces] = sorted((frame for result in chunk_results for frame in result.frames),
                                      key=lambda frame: frame.frame)
    decoded = sum(result.frames_decoded for result in chunk_results if not result.chunk.refine)
    short = [result for result in chunk_results
             if result.frames_decoded < result.chunk.frame_count and not result.chunk.refine]
    if not frames:
        raise VideoError(f"{options.video}: no frame could be decoded (damaged file?)")
    missing = sum(r.chunk.frame_count - r.frames_decoded for r in short)
    if video.declared_frames and video.declared_frames > video.frame_count:
        missing += video.declared_frames - video.frame_count
    if missing:
        log.warning(f"{options.video}: {missing} frame(s) could not be decoded (truncated or "
                 "damaged file); results cover what decodes")

    matches = label(chunk_results)
    if options.calibrate:
        results.abort()  # nothing but the scan cache is kept
        seen = tuple(face.distance for frame in frames for face in frame.faces
                     if face.distance is not None)
        return RunReport(0 if matches else 1, options.output, 0, 0.0, 0, distances=seen,
                         threshold=threshold, metric=metric)
    segments = merge_segments([frame.frame for frame in frames], sorted(matches),
                              video.clock, options.interval, options.min_gap, options.min_duration)

    def describe(outcomes: Sequence[ClipOutcome], seconds_cut: float) -> dict:
        stats = Stats(frames_analysed=len(frames), frames_decoded=decoded,
                      seconds_scan=seconds_scan, seconds_cut=seconds_cut,
                      seconds_total=time.monotonic() - started, workers=len(chunks),
                      extra={"frames_per_second": round(len(frames) / seconds_scan, 2)
                             if seconds_scan > 0 else None, "frames_refined": refined,
                             "chunks_from_cache": cached,
                             "backend": getattr(options.backend, "name", "local")})
        return build_metadata(
            video=VideoSummary(path=video.path, fps=video.fps, frame_count=video.frame_count,
                               duration=video.duration, width=video.width, height=video.height,
                               has_audio=video.has_audio, audio_streams=video.audio_streams,
                               rotation=video.rotation, start_time=video.start_time,
                               variable_frame_rate=video.variable_frame_rate),
            references=references.photos,
            settings=Settings(model=options.model, detector=options.detector, metric=metric,
                              threshold=threshold, interval=options.interval,
                              min_gap=options.min_gap, min_duration=options.min_duration,
                              padding=options.padding,
                              cut="none" if options.dry_run else "copy" if options.copy
                              else "accurate",
                              preset=options.preset.name,
                              # BlazeFace always sees the frame at its own input size
                              detect_size=blazeface.INPUT_SIZE
                              if options.detector == blazeface.NAME
                              else options.preset.detect_size),
            clock=video.clock, segments=segments, clips=outcomes, results=frames,
            matches=matches, stats=stats)

    # The review page's pictures need only the segments and detections, not the clips:
    # they are drawn (mostly in-process work) while ffmpeg cuts.
    with ThreadPoolExecutor(max_workers=1) as side:
        pictures = side.submit(_review_pictures, video, frames,
                               describe([ClipOutcome(None) for _ in segments], 0.0),
                               threshold, staging)
        cut_started = time.monotonic()
        outcomes = [ClipOutcome(None) for _ in segments] if options.dry_run else \
            cut_clips(video, segments, options, staging)
        seconds_cut = time.monotonic() - cut_started
        try:
            timeline, thumbnails = pictures.result()
        except Exception as error:  # noqa: BLE001 - a picture never costs the clips
            log.warning(f"{video.path}: no review pictures ({type(error).__name__}: {error})")
            timeline, thumbnails = None, {}
    document = describe(outcomes, seconds_cut)
    results.write_text(review.PAGE, review.review_page(document, thumbnails, timeline))
    results.write_text("segments.csv", segments_csv(document))
    results.write_text("segments.edl", segments_edl(document, Path(video.path).stem))
    results.write_json(METADATA, document)
    results.commit()

    failed = [outcome for outcome in outcomes if outcome.error]
    for outcome in failed:
        log.warning(outcome.error or "")
    on_screen = document["summary"]["seconds_on_screen"]
    exit_code = 2 if failed else (0 if segments else 1)
    return RunReport(exit_code, options.output, len(segments), on_screen, len(failed))


def _review_pictures(video: VideoInfo, frames: Sequence[FrameFaces], document: dict,
                     threshold: float, staging: Path) -> tuple[str | None, dict[int, str]]:
    """timeline.png and a thumbnail per appearance, for the review page; returns the
    timeline's name (None if it failed) and each appearance's thumbnail. A failure here
    costs a picture, never the clips or metadata: it is reported as a warning."""
    timeline: str | None = review.TIMELINE
    try:
        review.write_timeline(staging / review.TIMELINE, frames, video.clock, document,
                              threshold)
    except (ImportError, OSError, ValueError) as error:
        log.warning(f"{video.path}: no {review.TIMELINE} ({error})")
        timeline = None

    def thumbnail(segment: dict) -> str | None:
        best = review.best_detection(segment)
        if best is None:
            return None
        name = review.thumbnail_name(segment["index"])
        try:
            for _, frame in read_frames(video, best["frame"], best["frame"] + 1):
                review.draw_thumbnail(frame, best["box"], staging / name)
                return name
        except (OSError, FacecutError) as error:
            log.warning(f"{video.path}: no thumbnail for appearance {segment['index']} ({error})")
        return None

    # Each thumbnail decodes from the keyframe before its frame (~0.5 s of 720p here):
    # two at a time.
    with ThreadPoolExecutor(max_workers=2) as executor:
        names = list(executor.map(thumbnail, document["segments"]))
    return timeline, {segment["index"]: name for segment, name in zip(document["segments"], names)
                      if name is not None}


# ffmpeg cuts running at once in this process, over every video being finished
# (with --backend ray, several videos finish on driver threads at the same time).
_CUT_SLOTS = threading.BoundedSemaphore(cpu_count())


def clip_jobs(video: VideoInfo, segments: Sequence[Segment], options: Options,
              staging: Path) -> list[ClipJob]:
    """One ffmpeg job per segment's clip, as cut_clips runs them (up to
    `options.processes` at once, the CPUs shared among them)."""
    parallel = max(1, min(options.processes, len(segments)))
    threads = max(1, cpu_count() // parallel)
    jobs = []
    # Test hook: make ffmpeg really fail on clip N (its input does not exist), to
    # exercise the one-clip-fails path end to end. Never set in normal use.
    fault = os.environ.get("FACECUT_FAULT_CLIP", "")
    for index, segment in enumerate(segments, start=1):
        first, last = clip_frames(segment, video.clock, options.padding)
        start = video.clock.start_of(first)
        source = video.path + ".injected-fault" if fault == str(index) else video.path
        jobs.append(ClipJob(source=source,
                            decode_from=max(Fraction(0),
                                            video.keyframe_at_or_before(start) - SEEK_MARGIN),
                            copy_audio=all(codec in MP4_AUDIO for codec in video.audio_codecs), destination=str(staging / f"clip_{index}.mp4"),
                            start=start, duration=video.clock.end_of(last) - start,
                            copy=options.copy, has_audio=video.has_audio, threads=threads,
                            encoding=options.preset.clip_encoding,
                            even_size=video.width % 2 == 0 and video.height % 2 == 0))
    return jobs


def cut_clips(video: VideoInfo, segments: list[Segment], options: Options,
              staging: Path) -> list[ClipOutcome]:
    """Cut every segment's clip, several at once; a failed clip is recorded and the
    others still get cut."""
    if not segments:
        return []
    parallel = max(1, min(options.processes, len(segments)))
    jobs = clip_jobs(video, segments, options, staging)

    def cut(job: ClipJob) -> ClipOutcome:
        name = Path(job.destination).name
        try:
            with _CUT_SLOTS:
                cut_clip(job)
        except Interrupted:
            raise
        except FacecutError as error:
            Path(job.destination).unlink(missing_ok=True)
            return ClipOutcome(None, str(error))
        return ClipOutcome(name)

    with ThreadPoolExecutor(max_workers=parallel) as executor:
        futures = [executor.submit(cut, job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException as error:
            for future in futures:  # this video's queued cuts
                future.cancel()
            if isinstance(error, Interrupted):
                # end running ffmpeg children now, so the executor's shutdown does not
                # wait for them; a bug in one cut leaves other videos' cuts running
                children.kill_all()
            raise
