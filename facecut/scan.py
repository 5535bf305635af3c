"""Scan a video for the reference face with a pool of worker processes.

Each worker builds its models once (pool initializer), then decodes one contiguous
chunk of frames sequentially and analyses every `interval`-th frame, showing its own
progress bar. A task carries its video, photos and settings, so one pool serves
every video of a run. The parent only plans, collects and merges.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from . import log
from .analysis import ChunkResult
from .config import ScanSettings
from .decode import read_frames
from .embeddings import NO_GALLERY, Gallery, distance
from .errors import FacecutError, WorkerError
from .faces import ReferenceFace
from .planning import Chunk, Focus, chunk_count, max_chunk_frames
from .probe import VideoInfo
from .segments import Face, FrameFaces
from .tracking import IDS_PER_CHUNK, Tracker

logger = logging.getLogger(__name__)

# Math libraries read these when they load: one thread each, so P workers use P cores
# instead of P x cores threads fighting over them.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


# A scene cut ends every face track: the mean absolute difference between two
# consecutive analysed frames' 32x18 grey thumbnails above this (of 255).
SCENE_CUT = 30.0
# A smaller jump may still be a cut between similar shots: every face is embedded on
# such a frame, so a track that now holds someone else is split right there.
SCENE_CHANGE = 8.0


# ------------------------------------------------------------------ worker side


@dataclass
class WorkerState:
    """What one worker process loads once and uses for every chunk it scans."""

    settings: ScanSettings
    references: Gallery  # every person's photos
    engine: Any = None
    # A model that failed to load: reported for every chunk, never raised at load
    # (raising in a pool initializer makes the pool respawn the worker forever).
    error: FacecutError | None = None


def load_worker(settings: ScanSettings, references: Gallery) -> WorkerState:
    """Load the face models for this process (once per process, never per chunk)."""
    import cv2

    cv2.setNumThreads(1)
    from .faces import FaceEngine

    state = WorkerState(settings, references)
    try:
        state.engine = FaceEngine(
            settings.model, settings.detector, settings.detect_size, settings.min_face
        )
    except FacecutError as error:
        state.error = error
    return state


# A local pool worker's models, loaded by its initializer. Everything about a video
# comes with each task: one pool can serve every video of a run.
_state: WorkerState | None = None
_bar_line = 0  # this worker's line among the pool's bars


@dataclass(frozen=True)
class PoolTask:
    """One chunk for a local pool worker, with its video, photos and settings."""

    settings: ScanSettings
    video: VideoInfo
    references: Gallery
    chunk: Chunk
    bar_offset: int | None  # the worker's bar goes this many lines down; None: no bar


def _init_worker(
    settings: ScanSettings, lock: Any, log_level: int, started: Any, processes: int
) -> None:
    # The parent handles Ctrl-C and tells the pool to stop; workers ignore SIGINT so
    # they never print a traceback each. SIGTERM (Pool.terminate) keeps its default
    # action, death in the kernel: a Python handler runs only when the main thread
    # gets to it, and an idle worker's main thread can sit in a semaphore wait that a
    # signal landing on another of its threads never interrupts (seen: terminate()
    # waiting for ever). Our ffmpeg decoder dies with us (PR_SET_PDEATHSIG).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tqdm.set_lock(lock)
    log.configure(log_level)  # --debug shows this worker's decoder commands too
    # Each worker owns one line for its bar, whichever chunk it scans: a 2-hour
    # video is 24 chunks, scanned two at a time on 2 workers, in 2 lines.
    global _state, _bar_line
    with started.get_lock():
        _bar_line = started.value % processes
        started.value += 1
    _state = load_worker(settings, NO_GALLERY)


def _scan_chunk(task: PoolTask) -> ChunkResult | FacecutError:
    assert _state is not None
    state = WorkerState(task.settings, task.references, _state.engine, _state.error)
    line = None if task.bar_offset is None else task.bar_offset + _bar_line
    return scan_chunk(state, task.video, task.chunk, line, f"worker {_bar_line + 1}")


def _embed_photos(paths: Sequence[str]) -> list[ReferenceFace] | FacecutError:
    """The reference photos' faces, embedded by a worker whose models are loaded."""
    assert _state is not None
    if _state.error is not None:
        return _state.error
    try:
        return [_state.engine.embed_reference(path) for path in paths]
    except FacecutError as error:
        return error


def scan_chunk(
    state: WorkerState,
    video: VideoInfo,
    chunk: Chunk,
    bar_position: int | None = None,
    bar_label: str = "",
) -> ChunkResult | FacecutError:
    """Decode and analyse one chunk, with a progress bar `bar_label` at
    `bar_position` (None: no bar). Errors are returned, not raised, so the parent
    gets our one-line message rather than a pickled traceback."""
    if state.error is not None:
        return state.error
    scanner = _ChunkScanner(state, chunk)
    results: list[FrameFaces] = []
    try:
        with tqdm(
            total=len(chunk.analysed_frames),
            position=bar_position or 0,
            desc=bar_label,
            unit="frame",
            leave=False,
            dynamic_ncols=True,
            # None: off when stderr is no terminal
            disable=None if bar_position is not None else True,
            mininterval=0.5,
        ) as bar:
            for index, frame in read_frames(
                video, chunk.start_frame, chunk.stop_frame, every=chunk.interval
            ):
                results.append(scanner.step(index, frame))
                bar.update(1)
    except FacecutError as error:
        return error
    # Frames stepped over between delivered ones count as decoded: a chunk that
    # delivers all its samples covers all its frames.
    decoded = min(chunk.frame_count, len(results) * chunk.interval)
    return ChunkResult(chunk, tuple(results), decoded, scanner.memory, frozenset(scanner.partial))


class _ChunkScanner:
    """One chunk's scan state, frame after frame: its tracker, each track's first and
    last embedding, the previous frame's thumbnail, the frames searched only near
    tracked faces."""

    def __init__(self, state: WorkerState, chunk: Chunk) -> None:
        self.state = state
        self.chunk = chunk
        self.tracker = chunk_tracker(chunk, state.settings)
        self.memory: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # track: (first, last)
        self.previous: np.ndarray | None = None
        self.last_full = -state.settings.full_detect_every
        self.partial: set[int] = set()

    def step(self, index: int, frame: np.ndarray) -> FrameFaces:
        """Analyse frame `index`: the whole frame on every Nth frame, on sampled and
        refinement passes and after a picture jump; else near the tracked faces only."""
        thumbnail = _thumbnail(frame)
        jump = 0.0 if self.previous is None else float(np.mean(np.abs(thumbnail - self.previous)))
        self.previous = thumbnail
        chunk = self.chunk
        full = (
            chunk.refine
            or jump > SCENE_CHANGE
            or index - self.last_full >= self.state.settings.full_detect_every
        )
        if full:
            self.last_full = index
        else:
            self.partial.add(index)
        faces = _analyse(
            self.state,
            frame,
            index,
            self.tracker,
            self.memory,
            cut=jump > SCENE_CUT,
            check=jump > SCENE_CHANGE,
            full=full,
            focus=chunk.focus,
        )
        return FrameFaces(index, faces)


def chunk_tracker(chunk: Chunk, settings: ScanSettings) -> Tracker:
    """The face tracker for one chunk."""
    # Track ids: a block of IDS_PER_CHUNK per chunk. A refinement chunk's block comes
    # from its first frame, so refinement chunks from different runs (one read from
    # the scan cache, one run now) can never share ids.
    key = IDS_PER_CHUNK // 2 + chunk.start_frame if chunk.refine else chunk.index
    # On a sampled pass a tracked face is embedded on every `embed_every_samples`-th
    # sample only: samples are a third of a second apart at --speed, so every sample
    # would embed every face, the most expensive step (~25 ms a face here).
    embed_every = (
        max(settings.embed_every, settings.embed_every_samples * chunk.interval)
        if chunk.interval > 1
        else settings.embed_every
    )
    return Tracker(
        first_id=key * IDS_PER_CHUNK,
        embed_every=embed_every,
        settled_embed_every=max(embed_every, settings.settled_embed_every),
        # a face the detector misses for up to half a second keeps its track
        max_gap=max(15, 3 * chunk.interval),
    )


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    import cv2

    # every 4th pixel of every 4th row: the same block means to within noise, 4x
    # cheaper (0.55 against 2.0 ms on 720p)
    small = cv2.resize(frame[::4, ::4], (32, 18), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _analyse(
    state: WorkerState,
    frame: np.ndarray,
    index: int,
    tracker: Tracker,
    memory: dict[int, tuple[np.ndarray, np.ndarray]],
    cut: bool,
    check: bool,
    full: bool,
    focus: Focus | None = None,
) -> tuple[Face, ...]:
    """Detect faces (in the whole frame, in a refinement chunk's focus, or only near
    tracked faces), link each to its track, and embed only the faces whose track
    needs it (new, due, changed in size, or the picture changed a lot)."""
    engine, settings = state.engine, state.settings
    if not full:
        found = engine.find_faces_near(frame, tracker.live_boxes(index))
    elif focus is not None:
        found = engine.find_faces_in(frame, focus)
    else:
        found = engine.find_faces(frame)
    assignments = tracker.step(index, [face.box for face in found], cut)
    tracks = [assignment.track for assignment in assignments]
    need = [i for i, assignment in enumerate(assignments) if assignment.embed or check]
    scores: dict[int, tuple[float, ...]] = {}
    if need:
        embeddings = engine.embed(frame, [found[i] for i in need])
        for embedding, i in zip(embeddings, need, strict=True):
            known = memory.get(tracks[i])
            if (
                known is not None
                and distance(embedding, known[1], settings.metric) > settings.split_distance
            ):
                # the face on this track changed identity (a cut the thumbnails missed)
                tracks[i] = tracker.split(tracks[i], index, found[i].box)
            first = memory[tracks[i]][0] if tracks[i] in memory else embedding
            memory[tracks[i]] = (first, embedding)
            scores[i] = state.references.distances(embedding, settings.metric)
            tracker.embedded(tracks[i], index, found[i].box, settings.verdict(scores[i]))
    return tuple(
        Face(face.box, face.confidence, scores.get(i), tracks[i]) for i, face in enumerate(found)
    )


# ------------------------------------------------------------------ parent side


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Spawned workers inherit the environment at start: set thread limits only
    while the pool starts, leaving the parent's own environment as it was."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ResultStore(Protocol):
    """Where finished chunks are kept between runs (the scan cache)."""

    def load(self, chunk: Chunk) -> ChunkResult | None: ...

    def save(self, result: ChunkResult) -> None: ...


class ChunkRunner(Protocol):
    """Runs one video's chunks somewhere: a local process pool or a cluster."""

    def run(
        self, chunks: Sequence[Chunk], on_result: Callable[[ChunkResult], None] | None
    ) -> list[ChunkResult]:
        """Scan `chunks`, call `on_result` as each finishes, return them all in frame
        order. Raises a FacecutError if one fails, Interrupted when told to stop."""
        ...

    def close(self) -> None:
        """Everything ran: release the workers."""
        ...

    def terminate(self) -> None:
        """Something failed or was interrupted: stop whatever still runs, now."""
        ...


class ScanBackend(Protocol):
    """Where chunk jobs run (--backend): it says how finely to split a video and
    makes each video's runner."""

    name: str  # for the run's statistics

    def chunk_count(self, video: VideoInfo) -> int: ...

    def runner(
        self,
        video: VideoInfo,
        settings: ScanSettings,
        references: Gallery,
        show_bars: bool,
        bar_offset: int,
    ) -> ChunkRunner: ...

    def close(self) -> None:
        """The run is over: release the workers."""
        ...

    def terminate(self) -> None:
        """The run failed or was interrupted: stop every worker now."""
        ...


class WorkerPool:
    """`processes` spawned workers on this machine, each with the face models loaded
    once, scanning chunks of any video; each chunk shows its own progress bar."""

    def __init__(self, settings: ScanSettings, processes: int) -> None:
        self._pool = _start_pool(settings, processes)
        self._workers = _worker_ids(self._pool)

    def run(
        self, tasks: Sequence[PoolTask], on_result: Callable[[ChunkResult], None] | None
    ) -> list[ChunkResult]:
        return _run_chunks(self._pool, self._workers, tasks, on_result)

    def embed_photos(self, paths: Sequence[str]) -> list[ReferenceFace]:
        """Embed the reference photos on a worker (raises what embedding raises)."""
        pending = self._pool.apply_async(_embed_photos, (list(paths),))
        faces: list[ReferenceFace] = _next_outcome(self._pool, self._workers, pending.get)
        return faces

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        self._pool.terminate()
        self._pool.join()


def pool_tasks(
    video: VideoInfo,
    settings: ScanSettings,
    references: Gallery,
    chunks: Sequence[Chunk],
    show_bars: bool,
    bar_offset: int,
) -> list[PoolTask]:
    """The tasks that scan `chunks`: a bar per worker for first-pass chunks, below
    `bar_offset` lines (a batch's overall bar); refinement chunks are short and show
    none."""
    return [
        PoolTask(
            settings,
            video,
            references,
            chunk,
            bar_offset if show_bars and not chunk.refine else None,
        )
        for chunk in chunks
    ]


class LocalBackend:
    """--backend local for a whole run: one pool of `processes` workers, kept for
    every video of a batch instead of a pool per video (each start costs the
    workers' model loading, ~3 s here). The CLI starts it with the run when some
    video will be scanned (a worker then embeds the photos); otherwise it starts at
    the first chunk that needs scanning, so a fully cached rerun loads no models in
    workers nobody uses (0.85 s of CPU). A failed scan ends the pool (a worker may
    be dead or stuck); the next video starts a new one."""

    name = "local"

    def __init__(self, settings: ScanSettings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._pool: WorkerPool | None = None

    def chunk_count(self, video: VideoInfo) -> int:
        return chunk_count(video.frame_count, self.processes, max_chunk_frames(video.fps))

    def runner(
        self,
        video: VideoInfo,
        settings: ScanSettings,
        references: Gallery,
        show_bars: bool,
        bar_offset: int,
    ) -> ChunkRunner:
        if not settings.same_models(self.settings):
            raise ValueError("the pool's workers loaded other models than this video needs")
        return _SharedPoolRunner(self, video, settings, references, show_bars, bar_offset)

    def start(self) -> None:
        """Start the workers now: for a run that will surely scan. The photos are then
        embedded by a worker (embed_photos), so this process never loads the models."""
        self.pool()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def embed_photos(self, paths: Sequence[str]) -> list[ReferenceFace]:
        return self.pool().embed_photos(paths)

    def pool(self) -> WorkerPool:
        if self._pool is None:
            logger.debug(f"starting {self.processes} worker process(es), each loading the models")
            self._pool = WorkerPool(self.settings, self.processes)
        return self._pool

    def terminate(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class _SharedPoolRunner:
    """One video's chunks on the run's pool; closing leaves the pool to the next video."""

    def __init__(
        self,
        backend: LocalBackend,
        video: VideoInfo,
        settings: ScanSettings,
        references: Gallery,
        show_bars: bool,
        bar_offset: int,
    ) -> None:
        self._backend = backend
        self._context = (video, settings, references)
        self._bars = (show_bars, bar_offset)

    def run(
        self, chunks: Sequence[Chunk], on_result: Callable[[ChunkResult], None] | None
    ) -> list[ChunkResult]:
        return self._backend.pool().run(pool_tasks(*self._context, chunks, *self._bars), on_result)

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        self._backend.terminate()


def scan(
    video: VideoInfo,
    chunks: Sequence[Chunk],
    settings: ScanSettings,
    references: Gallery,
    show_bars: bool = True,
    bar_offset: int = 0,
    follow_up: Callable[[list[ChunkResult]], Sequence[Chunk]] | None = None,
    store: ResultStore | None = None,
    processes: int | None = None,
    runner: ChunkRunner | None = None,
) -> list[ChunkResult]:
    """Run every chunk on `runner` (default: a local pool of at most `processes`
    workers, one per chunk if not given) and return results in frame order.

    `follow_up`, given the first pass's results, may return more chunks (edge
    refinement); they run on the same workers and their results are appended.
    Chunks that `store` already holds are not run again, and each finished chunk is
    saved there at once; when every chunk is stored, no worker is even started.

    Raises WorkerError if a worker fails or dies, Interrupted on SIGINT/SIGTERM;
    in both cases every worker and decoder is gone before this returns.
    """
    if not chunks:
        return []
    own_pool = None
    if runner is None:
        own_pool = LocalBackend(settings, min(processes or len(chunks), len(chunks)))
        runner = own_pool.runner(video, settings, references, show_bars, bar_offset)

    def run(todo: Sequence[Chunk]) -> list[ChunkResult]:
        done: list[ChunkResult] = []
        missing: list[Chunk] = []
        for chunk in todo:
            stored = store.load(chunk) if store is not None else None
            if stored is None:
                missing.append(chunk)
            else:
                done.append(stored)
        if missing:
            done += runner.run(missing, store.save if store is not None else None)
        return sorted(done, key=lambda result: result.chunk.index)

    try:
        results = run(chunks)
        if follow_up is not None:
            more = follow_up(results)
            if more:
                results += run(more)
    except BaseException:
        runner.terminate()
        raise
    runner.close()
    if own_pool is not None:
        own_pool.close()
    return results


def _start_pool(settings: ScanSettings, processes: int) -> Any:
    context = multiprocessing.get_context("spawn")
    # One lock, made in the workers' context, serialises every bar's terminal writes.
    lock = context.RLock()
    tqdm.set_lock(lock)
    # Workers start with SIGINT ignored (spawned processes inherit SIG_IGN), so a
    # Ctrl-C while they import never prints a traceback per worker; the parent
    # handles it and stops them.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _single_threaded_children():
            return context.Pool(
                processes=processes,
                initializer=_init_worker,
                initargs=(settings, lock, log.level(), context.Value("i", 0), processes),
            )
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_chunks(
    pool: Any,
    workers: set[int],
    tasks: Sequence[PoolTask],
    on_result: Callable[[ChunkResult], None] | None,
) -> list[ChunkResult]:
    results: list[ChunkResult] = []
    pending = pool.imap_unordered(_scan_chunk, tasks)
    while len(results) < len(tasks):
        outcome = _next_outcome(pool, workers, pending.next)
        if on_result is not None:
            on_result(outcome)
        results.append(outcome)
    return sorted(results, key=lambda result: result.chunk.index)


def _next_outcome(pool: Any, workers: set[int], fetch: Callable[[float], Any]) -> Any:
    """What `fetch(timeout)` returns next from the pool, checking every second that no
    worker died meanwhile; a FacecutError a worker returned is raised here."""
    while True:
        try:
            outcome = fetch(1.0)
            break
        except multiprocessing.TimeoutError:
            _check_workers_alive(pool, workers)
    if isinstance(outcome, FacecutError):
        raise outcome
    return outcome


def _worker_ids(pool: Any) -> set[int]:
    return {process.pid for process in getattr(pool, "_pool", [])}


def _check_workers_alive(pool: Any, workers: set[int]) -> None:
    """multiprocessing.Pool silently replaces a worker that dies mid-task, and that
    task's result never arrives: notice the replacement and fail instead of waiting
    forever. (Our workers never exit on their own, so any change means a death.)"""
    dead = [process for process in getattr(pool, "_pool", []) if process.exitcode not in (None, 0)]
    if _worker_ids(pool) == workers and not dead:
        return
    how = "killed"
    if dead and dead[0].exitcode is not None and dead[0].exitcode < 0:
        how = f"killed by {signal.Signals(-dead[0].exitcode).name}"
    raise WorkerError(
        f"a scan worker died ({how}); the scan is incomplete and nothing was "
        "written. Rerun; if it repeats, try fewer --num_processes"
    )
