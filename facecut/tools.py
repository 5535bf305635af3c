"""Finding the ffmpeg and ffprobe executables, and naming files for them.

Commands are argument lists (never shell strings), and every input path is passed
as `file:/absolute/path` so a name like `-x.mp4`, `concat:...` or `http://...` can
never be read as an option or protocol.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from .errors import FFmpegError
from .process import run_command


@dataclass(frozen=True)
class Tools:
    """Paths of the ffmpeg and ffprobe executables in use."""

    ffmpeg: str
    ffprobe: str | None


_tools: Tools | None = None


# -fps_mode (exact frame passthrough) arrived in ffmpeg 5.1.
MINIMUM_FFMPEG = (5, 1)


def ffmpeg_version(banner: str) -> tuple[int, int] | None:
    """(major, minor) from `ffmpeg -version`'s first line, e.g. "ffmpeg version
    5.1.9-0+deb12u1" or "ffmpeg version n9.0.2-17-g2a571b6068"; None if unknown
    (git builds without a release number)."""
    match = re.search(r"version n?(\d+)\.(\d+)", banner)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_tools() -> Tools:
    """ffmpeg/ffprobe from PATH, else the ffmpeg binary shipped by imageio-ffmpeg.

    An ffmpeg on PATH older than 5.1 (e.g. Ubuntu 22.04's 4.4) is passed over for
    imageio-ffmpeg's. imageio-ffmpeg has no ffprobe; probing then uses ffmpeg alone.
    """
    global _tools
    if _tools is not None:
        return _tools
    ffmpeg_exe = shutil.which("ffmpeg")
    ffprobe_exe = shutil.which("ffprobe")
    if ffmpeg_exe is not None:
        try:
            banner = run_command([ffmpeg_exe, "-version"], "ffmpeg -version", timeout=30)
        except FFmpegError:
            banner = ""
        version = ffmpeg_version(banner)
        if version is not None and version < MINIMUM_FFMPEG:
            ffmpeg_exe = None  # too old: use the pip-installed one below
    if ffmpeg_exe is None:
        try:
            import imageio_ffmpeg

            ffmpeg_exe = imageio_ffmpeg.get_ffmpeg_exe()
        except Exception as error:  # noqa: BLE001 - RuntimeError when it has no binary, others on odd installs
            raise FFmpegError(
                "ffmpeg 5.1 or newer not found: install it (apt-get install ffmpeg) or "
                f"`pip install imageio-ffmpeg` ({error})"
            ) from None
    _tools = Tools(ffmpeg_exe, ffprobe_exe)
    return _tools


def input_url(path: str | os.PathLike[str]) -> str:
    """An ffmpeg input/output name that can only mean this local file."""
    return "file:" + os.path.abspath(os.fspath(path))


# Global options of every ffmpeg command built with ffmpeg-python: no interaction
# on stdin, no banner in the stderr whose tail error messages quote.
# ffmpeg-python's global_args() puts them after the output file rather than first,
# where ffmpeg's synopsis has them; ffmpeg applies them there all the same. Checked
# with ffmpeg 5.1.9 and 9.0.2: no "Trailing option(s) found in the command"
# warning (a per-file option such as -t in that place gets one), -y overwrites,
# -hide_banner hides the banner, -loglevel and -nostats take effect.
GLOBAL_OPTIONS = ("-nostdin", "-hide_banner")
