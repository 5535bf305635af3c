"""--backend ray: the same chunk jobs, run on a Ray cluster's workers.

Ray is optional (requirements-ray.txt) and imported only here. Each chunk is one Ray
task; Ray's own scheduler spreads the tasks of every video in the run over the
cluster. A worker process keeps its face models between tasks, so models load once
per process, as in the local pool. Workers only read the videos (from storage every
node mounts at the same path); the driver (this process) keeps the scan cache,
cuts the clips and writes the results.

A chunk whose worker dies (crash, OOM kill, lost node) is submitted once more; a
second death fails that video with a message naming the frames, and the other
videos go on. Chunks that finished are in the scan cache, so a rerun does not redo
them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import testing
from .analysis import ChunkResult
from .config import ScanSettings
from .embeddings import Gallery
from .errors import ClusterError, FacecutError, Interrupted, WorkerError
from .planning import Chunk, chunk_count, max_chunk_frames
from .probe import VideoInfo
from .process import children
from .scan import WorkerState, load_worker, scan_chunk

log = logging.getLogger(__name__)

# How long the driver waits between checks for Ctrl-C while chunks run.
POLL_SECONDS = 0.5
# An address must accept a connection within this, or we say so (Ray itself retries
# a dead address for many minutes).
CONNECT_SECONDS = 5.0
# A cluster left with no CPU at all (its nodes lost) for this long fails the videos
# still scanning, rather than waiting forever for a node to come back.
NO_CPU_SECONDS = 60.0
# The input check reads this much from each end of every video on every node.
_PROBE_BYTES = 1 << 20


def _token_at_hand() -> bool:
    return bool(
        os.environ.get("RAY_AUTH_TOKEN")
        or os.environ.get("RAY_AUTH_TOKEN_PATH")
        or (Path.home() / ".ray" / "auth_token").is_file()
    )


def _import_ray() -> Any:
    # Ray 2.59+ protects clusters with a token, but a driver (or node) only sends it
    # with RAY_AUTH_MODE=token, which Ray reads when it is imported: set after the
    # import, it changed nothing (a driver with ~/.ray/auth_token was refused,
    # "InvalidAuthToken ... RAY_AUTH_MODE is currently 'disabled'", Ray 2.60). So when
    # a token is at hand and the user did not choose, say so before importing Ray. A
    # cluster without token authentication accepts such a driver too (checked on
    # Ray 2.60), and a local instance started with it uses that token.
    if "RAY_AUTH_MODE" not in os.environ and _token_at_hand():
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "--backend ray needs Ray, which is not installed: pip install -r requirements-ray.txt"
        ) from None
    return ray


# ------------------------------------------------------------------ worker side

# This worker process's models, keyed by the settings and photos they were loaded
# for: Ray reuses worker processes between tasks, so they load once per process.
_loaded: tuple[tuple[ScanSettings, bytes], WorkerState] | None = None


def _scan_task(
    settings: ScanSettings, references: Gallery, video: VideoInfo, chunk: Chunk
) -> ChunkResult | FacecutError:
    global _loaded
    key = (settings, references.digest())
    if _loaded is None or _loaded[0] != key:
        _loaded = (key, load_worker(settings, references))
    testing.die_if_chunk_is_faulted(video.path, chunk.index, chunk.refine)
    outcome = scan_chunk(_loaded[1], video, chunk)
    if isinstance(outcome, FacecutError):
        # say which machine: on a cluster, "cannot open" usually means one node
        # does not see the file
        outcome = type(outcome)(f"{outcome} (on Ray node {socket.gethostname()})")
    return outcome


def _inputs_seen(paths: Sequence[str]) -> dict[str, str]:
    """On one node: each path's fingerprint, or why it cannot be read."""
    return {path: _fingerprint(path) for path in paths}


def _fingerprint(path: str) -> str:
    """Size plus a digest of the first and last MiB: the same file on every node, or
    not (a stale copy, another file at the same path), without reading it all."""
    try:
        size = os.path.getsize(path)
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            digest.update(handle.read(_PROBE_BYTES))
            if size > _PROBE_BYTES:
                handle.seek(max(_PROBE_BYTES, size - _PROBE_BYTES))
                digest.update(handle.read(_PROBE_BYTES))
    except OSError as error:
        return f"error: {error.strerror or error}"
    return f"{size}:{digest.hexdigest()}"


# ------------------------------------------------------------------ driver side


class RayBackend:
    """One connection to a Ray cluster for the whole run; makes a runner per video.

    Thread-safe: the CLI runs several videos at once on driver threads, so that the
    chunks of all of them are queued on the cluster together.
    """

    name = "ray"

    def __init__(self, address: str | None, chunks_per_video: int | None) -> None:
        self._ray = _import_ray()
        _connect(self._ray, address)
        self.cpus = int(self._ray.cluster_resources().get("CPU", 0))
        if self.cpus < 1:
            self.close()
            raise ClusterError(
                f"the Ray cluster at {address or 'this machine'} has no CPUs "
                "(are its worker nodes up? `ray status` shows them)"
            )
        self._chunks_per_video = chunks_per_video or self.cpus
        self._task = self._ray.remote(num_cpus=1, max_retries=0)(_scan_task)
        self._bars = _BarSlots()

    @property
    def nodes(self) -> list[dict[str, Any]]:
        return [node for node in self._ray.nodes() if node.get("Alive")]

    def chunk_count(self, video: VideoInfo) -> int:
        return chunk_count(
            video.frame_count,
            self._chunks_per_video,
            max_chunk_frames(video.fps),
        )

    def runner(
        self,
        video: VideoInfo,
        settings: ScanSettings,
        references: Gallery,
        show_bars: bool,
        bar_offset: int,
    ) -> RayRunner:
        return RayRunner(
            self._ray, self._task, video, settings, references, show_bars, self._bars, bar_offset
        )

    def unreadable_inputs(self, paths: Sequence[str]) -> dict[str, str]:
        """Check that every node reads each video as the same file this machine does;
        returns video -> why not, for those that fail somewhere."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        absolute = [os.path.abspath(path) for path in paths]
        mine = {path: _fingerprint(path) for path in absolute}
        check = self._ray.remote(num_cpus=0, max_retries=1)(_inputs_seen)
        pending = {
            check.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(absolute): node
            for node in self.nodes
        }
        ready, late = self._ray.wait(list(pending), num_returns=len(pending), timeout=120)
        for ref in late:
            log.warning(
                f"Ray node {pending[ref]['NodeManagerAddress']} did not answer the input "
                "check within 120 s; its chunks may fail if it cannot read the videos"
            )
            self._ray.cancel(ref, force=True)
        seen: dict[str, dict[str, str]] = {}
        for ref in ready:
            node = pending[ref]["NodeManagerAddress"]
            try:
                seen[node] = self._ray.get(ref)
            except self._ray.exceptions.RayError as error:
                log.warning(f"Ray node {node}: the input check failed ({_first_line(error)})")
        return input_problems(paths, mine, seen)

    def close(self) -> None:
        # Joining a cluster: just disconnect. A local instance we started ends here.
        self._ray.shutdown()

    terminate = close  # a failed run: the runners have cancelled their tasks already


def _answers(address: str) -> str | None:
    """None if something accepts connections at host:port, else why not."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except ValueError:
        return f"{address!r} is not host:port"
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__
    return None


def _local_cluster(ray: Any) -> str | None:
    """The address of the Ray instance this machine runs (RAY_ADDRESS, else the one
    `ray start` recorded), or None. (Ray's own lookup: private, hence guarded.)"""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    try:
        return ray._private.utils.read_ray_address()  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - moved or unreadable: as if none were running
        return None


def resolve_address(
    requested: str | None, recorded: str | None, answers: Callable[[str], str | None]
) -> str:
    """The address to give ray.init: `requested` (--ray-address) checked to answer;
    'auto' is the cluster recorded on this machine; None joins that one if it answers
    and otherwise starts a new local instance ('local'). Raises ClusterError at once
    rather than letting Ray retry a dead address for minutes."""
    if requested is None or requested == "auto":
        if recorded is not None and answers(recorded) is None:
            return recorded
        if requested is None:
            return "local"  # nothing (alive) here: start our own
        where = f" (the one recorded, {recorded}, does not answer)" if recorded else ""
        raise ClusterError(
            f"--ray-address auto: no Ray cluster runs on this machine{where}; "
            "join this machine to one with `ray start --address=HEAD:6379`, or "
            "leave out --ray-address to start a local one"
        )
    if requested.startswith("ray://"):
        return requested  # Ray Client: Ray's own connection and messages
    why = answers(requested)
    if why is not None:
        raise ClusterError(
            f"--ray-address {requested}: nothing answers there ({why}); is the "
            "head up? `ray status` on it prints its address"
        )
    return requested


def input_problems(
    paths: Sequence[str], mine: dict[str, str], seen: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Which videos some node cannot read as this machine does, and why (the first
    node that differs). `mine` and each node's entry in `seen` map an absolute path to
    its fingerprint or "error: why"."""
    problems: dict[str, str] = {}
    for path in paths:
        absolute = os.path.abspath(path)
        for node, theirs in seen.items():
            fingerprint = theirs.get(absolute, "error: not checked")
            if fingerprint == mine[absolute]:
                continue
            if fingerprint.startswith("error: "):
                why = f"Ray node {node} cannot read {absolute} ({fingerprint[7:]})"
            else:
                why = f"Ray node {node} sees a different file at {absolute}"
            problems[path] = (
                f"{path}: {why}. With --backend ray every node must see the "
                "videos at the same path (a shared filesystem); see docs/cluster.md"
            )
            break
    return problems


def _connect(ray: Any, requested: str | None) -> None:
    address = resolve_address(requested, _local_cluster(ray), _answers)
    import facecut

    # A signal during ray.init must not raise inside Ray's C++ start-up (it can
    # crash there): note it and act once init returns. Ray also installs its own
    # SIGTERM handler (sys.exit) during init; the CLI's handlers are put back after.
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in signals}
    stopped: list[int] = []
    for signum in signals:
        signal.signal(signum, lambda number, _frame: stopped.append(number))
    try:
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level=logging.ERROR,
            # ship this package to every node, so workers run this very code
            runtime_env={"py_modules": [os.path.dirname(facecut.__file__)], **_fault_env()},
        )
    except SystemExit:  # Ray's SIGTERM handler
        stopped.append(signal.SIGTERM)
    except (ConnectionError, RuntimeError, ValueError) as error:
        if stopped:
            raise Interrupted(stopped[0]) from None
        raise ClusterError(
            f"cannot connect to {_where(requested)} ({_first_line(error)}); "
            "run the command on a node of the cluster (the head, or a machine "
            "joined with `ray start --address=HEAD:6379 --num-cpus=0`) that has "
            "the cluster's token (~/.ray/auth_token or RAY_AUTH_TOKEN; "
            "with RAY_AUTH_MODE=token if the cluster uses one)"
        ) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopped:
        ray.shutdown()
        children.kill_all()
        raise Interrupted(stopped[0])
    _cluster_messages_to_stderr(ray)


def _where(requested: str | None) -> str:
    if requested is None:
        return "a local Ray instance"
    return (
        "the Ray cluster on this machine"
        if requested == "auto"
        else f"the Ray cluster at {requested}"
    )


def _cluster_messages_to_stderr(ray: Any) -> None:
    """Ray's driver prints the cluster's error messages ("A worker died ...") on
    stdout, which is ours: results only, one JSON line per video with --json. Send
    them to stderr instead. (Private API, so Ray is pinned; if it moves, Ray's
    messages merely stay on stdout.)"""
    module = getattr(getattr(ray, "_private", None), "worker", None)
    original = getattr(module, "print_to_stdstream", None)
    if module is None or original is None or getattr(original, "facecut_wrapped", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        # first lines only: a worker's death comes with a long state dump, and our
        # own warning already says which frames are run again
        lines = [
            str(line).strip().splitlines()[0] for line in data.get("lines", ()) if str(line).strip()
        ]
        original({**data, "lines": lines, "is_err": True}, ignore_prefix)

    to_stderr.facecut_wrapped = True  # type: ignore[attr-defined]
    module.print_to_stdstream = to_stderr


def _fault_env() -> dict[str, Any]:
    variables = testing.ray_fault_environment()
    return {"env_vars": variables} if variables else {}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _CpuWatch:
    """Notices a cluster that has had no CPU at all for NO_CPU_SECONDS (checked
    every few seconds, not on every poll)."""

    def __init__(self, ray: Any) -> None:
        self._ray = ray
        self._checked = 0.0
        self._since: float | None = None  # when the CPUs were first seen gone

    def lost(self) -> bool:
        now = time.monotonic()
        if now - self._checked < 5.0:
            return False
        self._checked = now
        if self._ray.cluster_resources().get("CPU", 0) >= 1:
            self._since = None
            return False
        self._since = self._since if self._since is not None else now
        return now - self._since >= NO_CPU_SECONDS


class _BarSlots:
    """Terminal lines for the per-video bars of the videos scanning now, from
    `first` down (the lines above hold the batch's overall bar)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: set[int] = set()

    def take(self, first: int) -> int:
        with self._lock:
            slot = next(
                line for line in range(first, first + len(self._used) + 1) if line not in self._used
            )
            self._used.add(slot)
            return slot

    def give_back(self, slot: int) -> None:
        with self._lock:
            self._used.discard(slot)


class RayRunner:
    """One video's chunks as Ray tasks, with one progress bar fed by finished chunks."""

    def __init__(
        self,
        ray: Any,
        task: Any,
        video: VideoInfo,
        settings: ScanSettings,
        references: Gallery,
        show_bars: bool,
        slots: _BarSlots,
        bar_offset: int,
    ) -> None:
        self._ray = ray
        self._task = task
        self._video_info = video
        self._show_bars = show_bars
        self._slots = slots
        self._bar_offset = bar_offset
        # shared by every chunk of the video: stored once in the object store
        self._args = (ray.put(settings), ray.put(references), ray.put(video))
        self._pending: dict[Any, tuple[Chunk, int]] = {}  # task -> (chunk, attempt)
        self._bar: Any = None
        self._slot: int | None = None

    def _submit(self, chunk: Chunk, attempt: int) -> None:
        # a second attempt is spread away from where the first was placed
        task = self._task if attempt == 1 else self._task.options(scheduling_strategy="SPREAD")
        self._pending[task.remote(*self._args, chunk)] = (chunk, attempt)

    def _grow_bar(self, frames: int) -> None:
        if self._bar is None:
            self._slot = self._slots.take(self._bar_offset)
            self._bar = tqdm(
                total=0,
                position=self._slot,
                desc=Path(self._video_info.path).name,
                unit="frame",
                leave=False,
                dynamic_ncols=True,
                mininterval=0.5,
                disable=None if self._show_bars else True,
            )
        self._bar.total += frames
        self._bar.refresh()

    def run(
        self, chunks: Sequence[Chunk], on_result: Callable[[ChunkResult], None] | None
    ) -> list[ChunkResult]:
        self._grow_bar(sum(len(chunk.analysed_frames) for chunk in chunks))
        for chunk in chunks:
            self._submit(chunk, 1)
        results: list[ChunkResult] = []
        failure: FacecutError | None = None
        watch = _CpuWatch(self._ray)
        while self._pending:
            children.raise_if_stopping()  # Ctrl-C or SIGTERM on the driver
            if watch.lost():
                raise ClusterError(
                    f"{self._video_info.path}: the Ray cluster has had no CPU for "
                    f"{NO_CPU_SECONDS:.0f} s (its nodes are gone), so {len(self._pending)} "
                    "chunk(s) cannot run; this video was not finished. Bring nodes back and "
                    "rerun: finished chunks are kept in the scan cache"
                )
            ready, _ = self._ray.wait(list(self._pending), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                chunk, attempt = self._pending.pop(ref)
                try:
                    outcome = self._outcome(ref, chunk, attempt, retry=failure is None)
                except FacecutError as error:
                    if failure is None and self._pending:
                        # The video has failed, but the chunks still running are
                        # worth finishing: the scan cache keeps them for the rerun.
                        log.warning(
                            f"{error}; letting this video's {len(self._pending)} other "
                            "running chunk(s) finish for the scan cache"
                        )
                    failure = failure or error
                    continue
                if outcome is None:  # submitted again
                    continue
                if on_result is not None:
                    on_result(outcome)
                results.append(outcome)
                self._bar.update(len(chunk.analysed_frames))
        if failure is not None:
            raise failure
        return sorted(results, key=lambda result: result.chunk.index)

    def _outcome(self, ref: Any, chunk: Chunk, attempt: int, retry: bool) -> ChunkResult | None:
        ray = self._ray
        what = f"{self._video_info.path}: frames {chunk.start_frame}-{chunk.stop_frame - 1}"
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayTaskError as error:
            # our code raised (a bug, not a lost worker): running it again would too
            raise WorkerError(
                f"{what}: the scan failed on a Ray worker ({_first_line(error.cause or error)})"
            ) from None
        except ray.exceptions.RuntimeEnvSetupError as error:
            raise ClusterError(
                f"{what}: a Ray node could not set up facecut's code "
                f"({_first_line(error)}); is requirements-ray.txt installed "
                "there, with the same Python?"
            ) from None
        except ray.exceptions.RayError as error:
            # the worker process or its node died (crash, OOM kill, node lost)
            reason = _first_line(error)
            if attempt == 1 and retry:
                log.warning(
                    f"{what}: the Ray worker scanning them died ({reason}); "
                    "running them again on another worker"
                )
                self._submit(chunk, 2)
                return None
            if attempt == 1:
                raise WorkerError(f"{what}: the Ray worker scanning them died ({reason})") from None
            raise WorkerError(
                f"{what}: the Ray worker scanning them died twice ({reason}); "
                "this video was not finished. Rerun to try again: finished "
                "chunks are kept in the scan cache"
            ) from None
        if isinstance(outcome, FacecutError):
            raise outcome
        result: ChunkResult = outcome
        return result

    def _end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._slot is not None:
            self._slots.give_back(self._slot)
            self._slot = None

    def close(self) -> None:
        self._end()

    def terminate(self) -> None:
        for ref in self._pending:
            # already finished or gone: nothing left to stop
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)
        self._pending.clear()
        self._end()
