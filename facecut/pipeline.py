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
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import portraits, review, timelines
from .analysis import (
    EXIT_FOUND,
    EXIT_NOT_FOUND,
    Analysis,
    ChunkResult,
    Labeller,
    analyse,
    by_anyone,
    by_groups,
    by_photos,
    exit_code,
    face_distances,
    refinement,
    video_tracks,
)
from .cache import CacheKey, ScanCache
from .config import Config, Job, ReferenceSet, ScanSettings
from .cut import clip_names, cut_clips, cut_supercut
from .discovery import PEOPLE_FILE as PEOPLE
from .discovery import Track, best_faces, check_selected, people_document, people_of
from .embeddings import NO_GALLERY, Gallery
from .errors import VideoError
from .exports import segments_csv
from .faces import FaceEngine
from .grouping import Grouping, TrackSample
from .metadata import (
    ClipOutcome,
    PersonResult,
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
from .segments import Box, supercut_ranges

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class References:
    """The reference photos' embeddings, whose each is, and what metadata says of
    them."""

    gallery: Gallery
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
    # each person searched: (name, segments, seconds on screen)
    people: tuple[tuple[str, int, float], ...] = ()


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

    outcomes: list[list[ClipOutcome]]  # per person, one per segment
    seconds: float  # spent cutting (the supercut included)
    timeline: str | None = None  # its file name; None if it could not be drawn
    # (person, appearance index) -> file name
    thumbnails: dict[tuple[str, int], str] = field(default_factory=dict)
    supercut: SupercutOutcome | None = None  # --supercut


@dataclass(frozen=True)
class Roster:
    """Who a video's people are: named on the command line, or found by grouping its
    tracks (then known only after the scan)."""

    names: tuple[str, ...]
    folders: tuple[str, ...]  # where each one's clips go ("": the results folder's top)
    cut: tuple[bool, ...]  # whose clips are cut
    labeller: Labeller  # how the scan's faces become each one's frames
    found: Discovered | None = None  # with no photo: the tracks behind each one


@dataclass(frozen=True)
class Discovered:
    """The people found in one video with no photo."""

    ids: tuple[int, ...]  # each one's person number (1-based; a batch's numbers)
    members: tuple[tuple[int, ...], ...]  # each one's joined track ids in this video
    tracks: dict[int, Track]  # this video's joined tracks, by id
    unsorted: tuple[int, ...]  # tracks placed in nobody
    seconds_grouping: float  # spent grouping this video's tracks (0: a batch's grouping)


def run(
    config: Config,
    job: Job,
    references: References,
    backend: ScanBackend | None = None,
    video: VideoInfo | None = None,
    results: ResultsFolder | None = None,
    grouping: Grouping | None = None,
) -> RunReport:
    """Find the people in one video and write the results folder, all or nothing.
    `backend` runs the scan's chunks (None: a local pool of `config.processes`);
    `video` is the job's video if the caller probed it already; `results` its
    results folder, if the caller opened (locked) it already; `grouping` the people
    of a whole batch found with no photo (tracks keyed (video, track id); None: this
    video's own)."""
    started = time.monotonic()
    video = video if video is not None else probe_video(job)
    this = Inputs(config, job, video, references)
    if results is None:
        results = results_folder(config, job)
        results.open()
    staging = results.staging
    assert staging is not None
    try:
        scanned = scan_video(this, *plan(this, backend), backend)
        roster = people(this, scanned, grouping)
        found = analyse_scan(this, scanned, roster)
        if config.output.calibrate:
            results.abort()  # nothing but the scan cache is kept
            return calibration_report(this, found)
        clips = cut(this, found, scanned, roster, staging)
        faces = write_faces(this, roster, staging)
        document = describe(this, found, scanned, clips, roster, time.monotonic() - started, faces)
        write(results, document, clips)
        if roster.found is not None:
            results.write_json(PEOPLE, describe_people(this, document, roster.found))
        results.commit()
    except BaseException:
        results.abort()
        raise
    return report(job, document)


def survey(
    config: Config,
    job: Job,
    references: References,
    backend: ScanBackend | None = None,
    video: VideoInfo | None = None,
) -> list[TrackSample]:
    """Scan one video into its scan cache and return its tracks for a batch's
    grouping, keyed (video, track id); nothing else is written."""
    video = video if video is not None else probe_video(job)
    this = Inputs(config, job, video, references)
    scanned = scan_video(this, *plan(this, backend), backend)
    found, _ = video_tracks(scanned.results, config.scan, config.segments.threshold)
    return [track.sample((job.video, track.id)) for track in found]


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
        ScanCache(job.output, CacheKey.of(job.video, config.people, config.scan))
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
            first_pass,
            video.clock,
            config.scan,
            config.segments,
            (video.width, video.height),
            first_pass_labeller(config),
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
        else backend.runner(video, config.scan, references.gallery, progress, job.bar_offset)
    )
    results = scan(
        video,
        chunks,
        config.scan,
        references.gallery,
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


def people(this: Inputs, scanned: Scanned, grouping: Grouping | None) -> Roster:
    """The video's people: those named, or those its tracks group into (`grouping`:
    a batch's, else this video's own)."""
    config = this.config
    if config.discovery is None:
        names = tuple(person.name for person in config.people)
        return Roster(
            names,
            tuple("" if len(names) == 1 else name for name in names),
            tuple(True for _ in names),
            by_photos(config.scan, config.segments.threshold, len(names)),
        )
    settings = config.discovery
    found, joined = video_tracks(scanned.results, config.scan, config.segments.threshold)
    started = time.monotonic()
    if grouping is None:
        samples = [track.sample((this.job.video, track.id)) for track in found]
        grouping = people_of(samples, config.scan.metric, settings)
        log.debug(
            f"{this.job.video}: {len(samples)} tracks grouped into {len(grouping.people)} "
            f"people in {time.monotonic() - started:.2f} s"
        )
    seconds = time.monotonic() - started
    check_selected(settings.selected, len(grouping.people))
    ids, members = [], []
    for number, person in enumerate(grouping.people, start=1):
        mine = tracks_in(person.keys, this.job.video)
        if mine:
            ids.append(number)
            members.append(mine)
    unsorted = tracks_in(grouping.unsorted, this.job.video)
    names = tuple(person_name(number) for number in ids)
    return Roster(
        names,
        names,
        tuple(number in settings.selected for number in ids),
        by_groups(members, joined),
        Discovered(
            tuple(ids),
            tuple(members),
            {track.id: track for track in found},
            unsorted,
            seconds,
        ),
    )


def tracks_in(keys: Sequence[Hashable], video: str) -> tuple[int, ...]:
    """The track ids of `video` among grouping keys (video, track id)."""
    return tuple(key[1] for key in keys if isinstance(key, tuple) and key[0] == video)


def person_name(number: int) -> str:
    """A person found with no photo: person_1 is the one most on screen."""
    return f"person_{number}"


def analyse_scan(this: Inputs, scanned: Scanned, roster: Roster) -> Analysis:
    video, config = this.video, this.config
    try:
        found = analyse(
            scanned.results,
            video.clock,
            video.declared_frames,
            config.scan,
            config.segments,
            roster.labeller,
        )
    except VideoError as error:
        raise VideoError(f"{this.job.video}: {error}") from None
    if found.frames_missing:
        log.warning(
            f"{this.job.video}: {found.frames_missing} frame(s) could not be decoded "
            "(truncated or damaged file); results cover what decodes"
        )
    return found


def first_pass_labeller(config: Config) -> Labeller:
    """Whose edges refinement pins: the named people's, or, with no photo, anyone's
    that grouping will place."""
    if config.discovery is None:
        return by_photos(config.scan, config.segments.threshold, len(config.people))
    return by_anyone(config.scan, config.segments.threshold, config.discovery)


def calibration_report(this: Inputs, found: Analysis) -> RunReport:
    config = this.config
    return RunReport(
        EXIT_FOUND if found.found else EXIT_NOT_FOUND,
        this.job.output,
        0,
        0.0,
        0,
        distances=face_distances(found.frames),
        threshold=config.segments.threshold,
        metric=config.scan.metric,
    )


def cut(this: Inputs, found: Analysis, scanned: Scanned, roster: Roster, staging: Path) -> Clips:
    """Cut everyone's clips (one pool of cuts for all); meanwhile a side thread draws
    the review page's pictures (they need only the segments and detections, and are
    mostly in-process work)."""
    config, video = this.config, this.video
    none = [[ClipOutcome(None) for _ in person.segments] for person in found.people]
    draft = describe(this, found, scanned, Clips(none, 0.0), roster, 0.0)
    wanted = [
        (segment, name)
        for appearances, folder, cut in zip(found.people, roster.folders, roster.cut, strict=True)
        if cut
        for segment, name in zip(
            appearances.segments, clip_names(len(appearances.segments), folder), strict=True
        )
    ]
    segments = [segment for segment, _ in wanted]
    names = [name for _, name in wanted]
    with ThreadPoolExecutor(max_workers=1) as side:
        pictures = side.submit(
            review.draw_pictures, video, found.frames, draft, config.segments.threshold, staging
        )
        started = time.monotonic()
        outcomes = (
            [ClipOutcome(None) for _ in segments]
            if config.cut.mode == "none"
            else cut_clips(video, segments, config, staging, names)
        )
        supercut = None
        if config.output.supercut and segments and config.cut.mode != "none":
            ranges = supercut_ranges(segments, video.clock, config.cut.padding)
            supercut = cut_supercut(video, ranges, config, staging)
        seconds = time.monotonic() - started
        try:
            timeline, thumbnails = pictures.result()
        except Exception as error:  # noqa: BLE001 - a picture never costs the clips
            log.warning(f"{video.path}: no review pictures ({type(error).__name__}: {error})")
            timeline, thumbnails = None, {}
    # back to each person, in order: the cut ones' outcomes, the others' placeholders
    cut_outcomes = iter(outcomes)
    per_person = [
        [next(cut_outcomes) for _ in placeholders] if cut else placeholders
        for placeholders, cut in zip(none, roster.cut, strict=True)
    ]
    return Clips(per_person, seconds, timeline, thumbnails, supercut)


def describe(
    this: Inputs,
    found: Analysis,
    scanned: Scanned,
    clips: Clips,
    roster: Roster,
    seconds_total: float,
    faces: dict[str, str] | None = None,
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
            # with no photo: the video's joined tracks, and the time grouping them took
            **(
                {}
                if roster.found is None
                else {
                    "tracks": len(roster.found.tracks),
                    "seconds_grouping": round(roster.found.seconds_grouping, 3),
                }
            ),
        },
    )
    config = this.config
    people = [
        PersonResult(
            name=name,
            folder=folder,
            segments=appearances.segments,
            clips=outcomes,
            matches=appearances.matches,
            face=(faces or {}).get(name),
        )
        for name, folder, appearances, outcomes in zip(
            roster.names, roster.folders, found.people, clips.outcomes, strict=True
        )
    ]
    return build_metadata(
        video=video_summary(this.video),
        references=this.references.photos,
        config=config,
        clock=this.video.clock,
        people=people,
        results=found.frames,
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


def write_faces(this: Inputs, roster: Roster, staging: Path) -> dict[str, str]:
    """With no photo: each person's clearest faces as photos (portraits.py), the first
    also as people/person_N.jpg. Returns each person's face photo, by name: the first
    of theirs written (a path in the results folder)."""
    if roster.found is None:
        return {}
    crops: list[tuple[int, Box]] = []
    paths: list[str] = []
    owners: list[str] = []
    for name, members in zip(roster.names, roster.found.members, strict=True):
        for k, (frame, face) in enumerate(best_faces(roster.found.tracks, members)):
            for path in ([f"{portraits.FOLDER}/{name}.jpg"] if k == 0 else []) + [
                f"{portraits.FOLDER}/{name}/face_{k + 1}.jpg"
            ]:
                crops.append((frame, face.box))
                paths.append(path)
                owners.append(name)
    done = portraits.write_faces(this.video, crops, [staging / path for path in paths])
    written: dict[str, str] = {}
    for name, path, ok in zip(owners, paths, done, strict=True):
        if ok:
            written.setdefault(name, path)
    return written


def describe_people(
    this: Inputs, document: dict[str, Any], discovered: Discovered
) -> dict[str, Any]:
    """people.json's document, from metadata.json's."""
    config = this.config
    assert config.discovery is not None
    return people_document(
        document["video"],
        document["people"],
        discovered.tracks,
        discovered.members,
        discovered.ids,
        discovered.unsorted,
        {
            "model": config.scan.model,
            "metric": config.scan.metric,
            "link_distance": config.discovery.link_distance,
            "min_frames": config.discovery.min_frames,
            "min_face": config.discovery.min_face,
        },
    )


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
        people=tuple(
            (person["name"], person["segments"], person["seconds_on_screen"])
            for person in document["people"]
        ),
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


def embed_references(
    people: Sequence[ReferenceSet], scan: ScanSettings, workers: Any = None
) -> References:
    """Embed the largest face of every person's every reference photo: on `workers`
    (a started LocalBackend, whose models are loaded anyway), else here, with one
    model load."""
    paths = [photo for person in people for photo in person.photos]
    owners = tuple(i for i, person in enumerate(people) for _ in person.photos)
    if not paths:
        return References(NO_GALLERY, ())  # no photo: the people are found by grouping
    if workers is not None:
        found = workers.embed_photos(paths)
    else:
        engine = FaceEngine(scan.model, scan.detector, scan.detect_size)
        found = [engine.embed_reference(path) for path in paths]
    rows = []
    photos = []
    for path, owner, reference in zip(paths, owners, found, strict=True):
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
                person=people[owner].name,
            )
        )
    return References(Gallery(np.vstack(rows), owners), tuple(photos))
