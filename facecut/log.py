"""Logging for the person at the terminal: stdlib `logging`, written through tqdm so
progress bars stay intact.

Library modules log with `logging.getLogger(__name__)`; nothing in `facecut/` prints.
The CLI calls `configure` once: warnings and the run's own notes by default, and with
`--debug` every ffmpeg/ffprobe command (as a line you can paste into a shell) and the
run's decisions (chunks, refinement ranges, cache hits). Spawned workers call it again
with the parent's level, so a decoder's command shows up too.
"""

from __future__ import annotations

import logging
import sys

from tqdm import tqdm

ROOT = "facecut"


class _TqdmHandler(logging.Handler):
    """Writes each record on a line of its own above the progress bars."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise into the run
            self.handleError(record)


class _Formatter(logging.Formatter):
    """ "warning: …" and "debug: …" prefixes; the run's notes (INFO) plain."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"warning: {message}"
        if record.levelno <= logging.DEBUG:
            return f"debug: {message}"
        return message


def configure(level: int = logging.INFO) -> None:
    """Route the `facecut` loggers to stderr through tqdm at `level` (idempotent)."""
    logger = logging.getLogger(ROOT)
    logger.setLevel(level)
    logger.propagate = False
    if not any(isinstance(handler, _TqdmHandler) for handler in logger.handlers):
        handler = _TqdmHandler()
        handler.setFormatter(_Formatter())
        logger.addHandler(handler)


def level() -> int:
    """The level the CLI configured, to hand to worker processes."""
    return logging.getLogger(ROOT).getEffectiveLevel()
