"""Starting ffmpeg/ffprobe children, and stopping them all when the run is told to stop.

Every child process of the tool starts in `start`: it is logged first (DEBUG, as a
line one can paste into a shell, so `--debug` shows exactly what ran), started with
stdin closed and stdout/stderr piped, and registered in `children`, so a signal
handler can end every child at once. `run_command` runs one to completion and turns
a failure into an FFmpegError that carries the tail of its stderr.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

from .errors import FFmpegError, Interrupted

log = logging.getLogger(__name__)


class ChildProcesses:
    """Every ffmpeg child this process started, so a signal handler can end them all,
    and whether this process was told to stop."""

    def __init__(self) -> None:
        # Reentrant: a signal handler runs on the main thread, possibly while that
        # very thread is inside add() or remove().
        self._lock = threading.RLock()
        self._children: set[subprocess.Popen[bytes]] = set()
        # Set when this process was told to stop, so a child that dies of a signal
        # is told apart from one that crashed (or was killed by the OOM killer).
        self.stopping = False

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.add(process)

    def remove(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.discard(process)

    def raise_if_stopping(self) -> None:
        """Raise Interrupted if a signal told this process to stop: long work on
        any thread calls this between steps, so nothing new starts after Ctrl-C."""
        if self.stopping:
            raise Interrupted(signal.SIGINT)

    def kill_all(self) -> None:
        """Mark this process as stopping and kill every child still running."""
        self.stopping = True
        with self._lock:
            running = list(self._children)
        for process in running:
            if process.poll() is None:
                process.kill()


# The children of this process and its stop flag. One per process: a spawned worker
# has its own (empty) registry, and stops on its own signals.
children = ChildProcesses()


def killed_error(signum: int, what: str) -> BaseException:
    """What to raise for an ffmpeg child that died of signal `signum`: we stopped it
    (Interrupted), or it crashed or was killed from outside, e.g. out of memory."""
    if children.stopping:
        return Interrupted(signum)
    return FFmpegError(
        f"{what}: ffmpeg was killed by {signal.Signals(signum).name} (out of memory?)"
    )


def last_lines(text: str, count: int = 3) -> str:
    """The last `count` non-blank lines of a child's stderr, on one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "no error output"


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None  # not Linux: a decoder then ends on a broken pipe instead


# Loaded up front: the function below runs in the forked child before exec, where
# it must do as little Python as possible.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the decoder child, before exec: have Linux kill it if the worker that
    started it dies (even by SIGKILL), so no decoder outlives its worker."""
    if _PRCTL is not None:
        _PRCTL(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def start(
    args: Sequence[str], what: str, *, bufsize: int = -1, die_with_parent: bool = False
) -> subprocess.Popen[bytes]:
    """Start a child (stdin closed, stdout and stderr piped) and register it in
    `children`; the caller waits for it and removes it. The command is logged at
    DEBUG before it starts. `die_with_parent`: Linux kills the child if this process
    dies, even by SIGKILL (for decoders, which a worker reads while it lives)."""
    children.raise_if_stopping()  # a signal arrived: start nothing new
    command = list(args)
    log.debug("%s", shlex.join(command))
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=bufsize,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    except OSError as error:
        raise FFmpegError(f"{what}: cannot run {command[0]}: {error.strerror}") from None
    children.add(process)
    if children.stopping:  # the signal came while it started, after kill_all's look
        process.kill()
    return process


def run_captured(
    args: Sequence[str], what: str, timeout: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a command to completion and return its exit code, stdout and stderr,
    whatever the outcome (for callers that read a failed command's output)."""
    process = start(args, what)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise FFmpegError(f"{what}: {args[0]} did not finish within {timeout:g} s") from None
    finally:
        children.remove(process)
    return subprocess.CompletedProcess(list(args), process.returncode, out, err)


def run_command(args: Sequence[str], what: str, timeout: float | None = None) -> str:
    """Run a command to completion and return its stdout; raise FFmpegError naming
    `what` failed with the tail of its stderr."""
    finished = run_captured(args, what, timeout)
    if finished.returncode < 0:
        raise killed_error(-finished.returncode, what)
    if finished.returncode != 0:
        raise FFmpegError(f"{what}: {last_lines(finished.stderr.decode('utf-8', 'replace'))}")
    return finished.stdout.decode("utf-8", "replace")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
