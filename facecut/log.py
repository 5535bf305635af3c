"""Messages for the person at the terminal: through tqdm.write so bars stay intact."""
from __future__ import annotations

import sys

from tqdm import tqdm


def info(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def warn(message: str) -> None:
    tqdm.write(f"warning: {message}", file=sys.stderr)
