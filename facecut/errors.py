"""One exception family for everything the CLI reports as a one-line error.

Each class carries the exit code the CLI returns for it, so callers never map
exceptions to codes by hand.
"""

from __future__ import annotations


class FacecutError(Exception):
    """Base of every error the tool reports to the user (exit code 2)."""

    exit_code: int = 2


class UsageError(FacecutError):
    """The command line asks for something impossible or contradictory."""


class VideoError(FacecutError):
    """The input video is missing, unreadable, or not a video."""


class ReferencePhotoError(FacecutError):
    """The reference photo is missing, unreadable, or shows no face."""


class ModelError(FacecutError):
    """A face model cannot be loaded (unknown name, missing weights, missing package)."""


class FFmpegError(FacecutError):
    """ffmpeg or ffprobe failed or is not installed."""


class OutputError(FacecutError):
    """The output folder cannot be written, or already holds results."""


class WorkerError(FacecutError):
    """A scan worker died or failed; the scan is incomplete and nothing is reported as done."""


class ClusterError(FacecutError):
    """The cluster backend is unavailable: Ray missing, unreachable, or without CPUs."""


class Interrupted(BaseException):
    """The run was stopped by a signal; exit code follows the shell convention 128+N.

    A BaseException, like KeyboardInterrupt, so no `except Exception` anywhere (ours
    or a library's) can swallow it or turn it into another error."""

    def __init__(self, signum: int) -> None:
        import signal

        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}; no partial results were kept")
        self.exit_code = 128 + signum
