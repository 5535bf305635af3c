"""Turn --video and --reference arguments (files, folders, glob patterns) into lists
of files, and give every video its own results folder."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".mov",
        ".mkv",
        ".avi",
        ".webm",
        ".m4v",
        ".ts",
        ".mts",
        ".m2ts",
        ".mpg",
        ".mpeg",
        ".wmv",
        ".flv",
        ".3gp",
        ".ogv",
        ".mxf",
    }
)
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def _is_pattern(text: str) -> bool:
    return any(char in text for char in "*?[")


def expand(arguments: Sequence[str], suffixes: frozenset[str], kind: str) -> list[str]:
    """Files named by `arguments`, in order: a file as given (checked later, where a
    bad one gets its own clear error); a folder's files with one of `suffixes`, sorted
    by name (not recursive); a glob pattern the shell left unexpanded, its matches
    sorted. The same file named twice is kept once."""
    found: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            inside = sorted(
                str(child)
                for child in path.iterdir()
                if child.is_file() and child.suffix.lower() in suffixes
            )
            if not inside:
                raise UsageError(
                    f"{argument}: folder has no {kind} files (looked for "
                    f"{', '.join(sorted(suffixes))}); name the files instead"
                )
            found += inside
        elif not path.exists() and _is_pattern(argument):
            matches = sorted(match for match in glob.glob(argument) if Path(match).is_file())
            if not matches:
                raise UsageError(f"{argument}: no file matches this pattern; check the path")
            found += matches
        else:
            found.append(argument)
    unique: list[str] = []
    seen: set[str] = set()
    for name in found:
        key = str(Path(name).resolve()) if Path(name).exists() else name
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique


def result_folders(videos: Sequence[str], base: Path) -> list[Path]:
    """base/<video name without extension> for each video; when two names collide
    (same name in different folders), the later ones get -2, -3, ... in input order,
    so the same command always gives the same folders."""
    folders: list[Path] = []
    used: set[str] = set()
    for video in videos:
        stem = Path(video).stem or "video"
        name, number = stem, 1
        while name.lower() in used:
            number += 1
            name = f"{stem}-{number}"
        used.add(name.lower())
        folders.append(base / name)
    return folders
