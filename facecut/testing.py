"""Fault injection for the end-to-end tests, in one place.

Each hook is an environment variable that only the test suite sets; in normal use
none is set and every function here is a no-op. They make real failures happen (a
real ffmpeg that fails, a real worker process that dies) rather than faking them,
so the paths they exercise are the ones a user would meet.
"""

from __future__ import annotations

import os
import signal

# "N": clip N's ffmpeg reads a file that does not exist, so that one cut really fails
# (the one-clip-fails path: the other clips, metadata and exit code 2).
CLIP_FAULT = "FACECUT_FAULT_CLIP"
# "<file name>:<N>": a Ray worker that starts first-pass chunk N of that video kills
# itself with SIGKILL, as the OOM killer would, on every attempt (retry, then fail).
RAY_CHUNK_FAULT = "FACECUT_FAULT_RAY_CHUNK"


def clip_source(path: str, index: int) -> str:
    """The file clip `index` (1-based) is cut from: `path`, unless CLIP_FAULT names it."""
    return path + ".injected-fault" if os.environ.get(CLIP_FAULT, "") == str(index) else path


def die_if_chunk_is_faulted(video_path: str, chunk_index: int, refine: bool) -> None:
    """In a Ray worker: die now if RAY_CHUNK_FAULT names this first-pass chunk."""
    if (
        not refine
        and os.environ.get(RAY_CHUNK_FAULT) == f"{os.path.basename(video_path)}:{chunk_index}"
    ):
        os.kill(os.getpid(), signal.SIGKILL)


def ray_fault_environment() -> dict[str, str]:
    """The hooks to pass on to Ray's workers (they do not inherit our environment)."""
    fault = os.environ.get(RAY_CHUNK_FAULT)
    return {} if fault is None else {RAY_CHUNK_FAULT: fault}
