"""Turn --video and --reference arguments (files, folders, glob patterns) into lists
of files and the people searched, and give every video its own results folder."""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from pathlib import Path

from .config import ReferenceSet
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


def file_key(name: str) -> str:
    """What tells two named files apart: the resolved path of one that exists."""
    return str(Path(name).resolve()) if Path(name).exists() else name


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
        key = file_key(name)
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


# a person's name names their clips' folder: letters, digits, and . _ - inside
PERSON_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def reference_sets(arguments: Sequence[str]) -> list[ReferenceSet]:
    """The people --reference names, in order. NAME=PATH[,PATH...] is one person
    (each PATH a photo, folder or pattern, as `expand` reads them); every bare PATH
    together is one more, named by the first one's file (today's meaning: photos of
    one person). Raises UsageError for a repeated name or photo, or a bad name."""
    named: list[tuple[str, list[str]]] = []
    bare: list[str] = []
    for argument in arguments:
        name, sep, paths = argument.partition("=")
        if not sep or Path(argument).exists() or "/" in name or "\\" in name:
            bare.append(argument)
            continue
        if not PERSON_NAME.fullmatch(name):
            raise UsageError(
                f"--reference {argument}: {name!r} cannot name a person (their clips' "
                "folder): use letters, digits, '.', '_' and '-', starting with a letter "
                "or digit"
            )
        if is_reserved(name):
            raise UsageError(
                f"--reference {argument}: {name!r} is the name of a file or folder facecut "
                "writes in the results folder; give the person another name"
            )
        parts = [part for part in paths.split(",") if part.strip()]
        if not parts:
            raise UsageError(f"--reference {argument}: no photo after '='; give NAME=PHOTO")
        named.append((name, parts))
    people = [
        ReferenceSet(name, tuple(expand(parts, PHOTO_SUFFIXES, "photo"))) for name, parts in named
    ]
    if bare:
        photos = tuple(expand(bare, PHOTO_SUFFIXES, "photo"))
        people.append(ReferenceSet(_name_of(bare[0]), photos))
    seen_names: dict[str, str] = {}
    seen_photos: dict[str, str] = {}
    for person in people:
        if person.name.lower() in seen_names:
            raise UsageError(
                f"--reference: two people are named {person.name!r}; give each person "
                f"one --reference NAME=PHOTO,PHOTO... with all their photos"
            )
        seen_names[person.name.lower()] = person.name
        for photo in person.photos:
            key = file_key(photo)
            if key in seen_photos and seen_photos[key] != person.name:
                raise UsageError(
                    f"--reference: {photo} is a photo of both {seen_photos[key]!r} and "
                    f"{person.name!r}; a photo can show one person only"
                )
            seen_photos[key] = person.name
    return people


def is_reserved(name: str) -> bool:
    """A name that would make a person's clip folder clash with a results file."""
    from .output import EXPORTS, FACES_FOLDER, METADATA, PEOPLE, is_result_name

    reserved = {METADATA, PEOPLE, FACES_FOLDER, *EXPORTS}
    return name.lower() in {r.lower() for r in reserved} or is_result_name(name)


def _name_of(argument: str) -> str:
    """A person's name from a bare --reference: its file's or folder's name, made
    safe for a folder name."""
    path = Path(argument)
    stem = path.name if path.is_dir() else path.stem
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:64]
    return safe if safe and not is_reserved(safe) else "person"
