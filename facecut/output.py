"""The results folder: staged writes, then an all-or-nothing commit.

Clips and metadata are written into a hidden staging folder inside the output
folder and only moved into place once all of them are complete, so an interrupted
or failed run never leaves a half-written clip or metadata.json, and --overwrite
replaces old results only after the new ones exist.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from .errors import OutputError

STAGING_PREFIX = ".facecut-partial-"
METADATA = "metadata.json"
# Held (flock) by the run writing the folder, from before its scan to its commit: a
# second run into the same folder (xargs -P, two terminals) learns it at once
# instead of after scanning. The kernel drops a dead process's lock, so a killed run
# never leaves a lock behind; the file says who holds it, for the message.
LOCK_NAME = ".facecut-lock"


CLIP_NAME = re.compile(r"clip_\d+\.mp4")
# cut lists for editors and the review page, written beside metadata.json
EXPORTS = (
    "supercut.mp4",
    "segments.csv",
    "segments.otio",
    "segments.fcpxml",
    "segments.xml",
    "segments.edl",
    "timeline.png",
    "index.html",
)
# thumb_3.jpg; thumb_host_3.jpg with several people (names: inputs.PERSON_NAME)
THUMB_NAME = re.compile(r"thumb_(?:[A-Za-z0-9][A-Za-z0-9._-]*_)?\d+\.jpg")
PEOPLE = "people.json"  # with no photo: the people found (discovery.py)
# ... and their faces: people/person_N.jpg, people/person_N/face_K.jpg (portraits.py)
FACES = re.compile(r"person_\d+\.jpg|person_\d+/face_\d+\.jpg")


def is_result_name(name: str) -> bool:
    return (
        name in (METADATA, PEOPLE)
        or name in EXPORTS
        or CLIP_NAME.fullmatch(name) is not None
        or THUMB_NAME.fullmatch(name) is not None
    )


FACES_FOLDER = "people"


def result_folders(folder: Path) -> set[str]:
    """The subfolders the earlier run in `folder` wrote, as its own files say: each
    person's clip folder (metadata.json's people[].folder) and, with no photo,
    people/ (beside its people.json). A folder only looking like one is the user's."""
    names: set[str] = set()
    try:
        document = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        names |= {p["folder"] for p in document.get("people", []) if p.get("folder")}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    if (folder / PEOPLE).is_file():
        names.add(FACES_FOLDER)
    return names


def is_result_folder(folder: Path) -> bool:
    """A folder holding only what an earlier run writes in one: a person's clips
    (NAME/clip_N.mp4) or the faces of the people found with no photo (people/)."""
    inside = [p for p in folder.rglob("*") if p.is_file()]
    if not inside:
        return False
    if folder.name == FACES_FOLDER:
        return all(FACES.fullmatch(p.relative_to(folder).as_posix()) for p in inside)
    return all(p.parent == folder and CLIP_NAME.fullmatch(p.name) for p in inside)


def existing_results(folder: Path, protect: tuple[Path, ...] = ()) -> list[Path]:
    """The files and folders of an earlier run in `folder`: metadata.json, the cut
    lists, clip_<N>.mp4 only (never e.g. clip_intro.mp4), a person's clip folder, the
    people found (people.json, people/), and never a file in `protect` or a folder
    holding one
    (the inputs)."""
    if not folder.is_dir():
        return []
    protected = {p.resolve() for p in protect if p.exists()}
    written = result_folders(folder)
    return sorted(
        p
        for p in folder.iterdir()
        if p.resolve() not in protected
        and (
            (p.is_file() and is_result_name(p.name))
            or (
                p.is_dir()
                and p.name in written
                and is_result_folder(p)
                # a later run's photos may be an earlier run's faces: never moved
                and not any(q.is_relative_to(p.resolve()) for q in protected)
            )
        )
    )


class FolderLock:
    """An exclusive lock on a results folder, for one run, never waited for."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise OutputError naming the run that holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
                os.close(fd)
                who = f" ({holder})" if holder else ""
                raise OutputError(
                    f"{self.path.parent}: another facecut run is writing results here{who}; "
                    "wait for it to finish, or choose another --output"
                ) from None
            # The holder before us may have removed the file between our open and our
            # lock: then we hold a lock on a file nobody else can see. Start again.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()}, started {started}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the file, then drop the lock (in that order: a run that opens the
        file meanwhile sees it gone once it gets the lock, and starts again)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ResultsFolder:
    def __init__(self, folder: Path, overwrite: bool, protect: tuple[Path, ...] = ()) -> None:
        self.folder = folder
        self.overwrite = overwrite
        self.protect = protect
        self.created = False
        self.staging: Path | None = None
        self.lock = FolderLock(folder)

    def open(self) -> Path:
        """Lock the folder for this run, check it can take results and create the
        staging folder."""
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder; choose another --output")
        for path in self.protect:
            if (
                path.exists()
                and path.resolve().parent == folder.resolve()
                and is_result_name(path.name)
            ):
                raise OutputError(
                    f"{path}: an input is named like a result file in the output "
                    "folder and would be overwritten; choose another --output"
                )
        # before creating anything: a refused run leaves no folder behind
        self.refuse_earlier_results()
        try:
            if not folder.exists():
                folder.mkdir(parents=True)
                self.created = True
            self.lock.acquire()
            # again under the lock: a run that held it may have just committed
            self.refuse_earlier_results()
            self._remove_stale_staging()
            self.staging = folder / f"{STAGING_PREFIX}{os.getpid()}"
            self.staging.mkdir()
        except OSError as error:
            self.abort()
            raise OutputError(
                f"{folder}: cannot write results here ({error.strerror}); choose another --output"
            ) from None
        except OutputError:
            self.abort()
            raise
        return self.staging

    def refuse_earlier_results(self) -> None:
        """OutputError if the folder holds an earlier run's results and --overwrite
        was not given."""
        old = existing_results(self.folder, self.protect)
        if old and not self.overwrite:
            clips = sum(1 for p in old if CLIP_NAME.fullmatch(p.name)) + sum(
                1 for p in old if p.is_dir() for q in p.iterdir() if CLIP_NAME.fullmatch(q.name)
            )
            raise OutputError(
                f"{self.folder}: already holds results ({METADATA}, {clips} clip(s)); "
                "pass --overwrite to replace them, or choose another --output"
            )

    def _remove_stale_staging(self) -> None:
        """Staging folders left by a run that was killed outright (SIGKILL, power loss)."""
        for entry in self.folder.glob(f"{STAGING_PREFIX}*"):
            suffix = entry.name[len(STAGING_PREFIX) :]
            if suffix.isdigit() and not _pid_alive(int(suffix)):
                shutil.rmtree(entry, ignore_errors=True)

    def write_json(self, name: str, document: dict[str, Any]) -> None:
        self.write_text(name, json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    def write_text(self, name: str, text: str) -> None:
        assert self.staging is not None
        try:
            with open(self.staging / name, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise OutputError(f"{self.folder}: cannot write {name} ({error.strerror})") from None

    def commit(self) -> None:
        """Swap the staged results in, all or nothing.

        Old results are first moved aside into a backup folder, the new files moved
        into place (metadata.json last), then the backup deleted. If anything fails
        the old results are put back. Signals are held off meanwhile, so Ctrl-C
        cannot leave the folder half old, half new.
        """
        assert self.staging is not None
        staged = sorted(self.staging.iterdir(), key=lambda p: (p.name == METADATA, p.name))
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        backup: Path | None = None
        moved_old: list[Path] = []
        placed: list[Path] = []
        try:
            old = existing_results(self.folder, self.protect)
            if old and not self.overwrite:
                raise OutputError(
                    f"{self.folder}: another run wrote results here meanwhile; "
                    "pass --overwrite to replace them, or choose another --output"
                )
            if old:
                backup = Path(tempfile.mkdtemp(dir=self.folder, prefix=f"{STAGING_PREFIX}old-"))
                for item in old:
                    os.replace(item, backup / item.name)
                    moved_old.append(backup / item.name)
            for item in staged:
                os.replace(item, self.folder / item.name)
                placed.append(self.folder / item.name)
            self.staging.rmdir()
            self.staging = None
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
            self.lock.release()
        except BaseException as error:
            # Put everything back as it was, whatever stopped us (even a signal).
            for item in placed:
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
            for item in moved_old:
                os.replace(item, self.folder / item.name)
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
            if isinstance(error, OSError):
                raise OutputError(
                    f"{self.folder}: cannot move results into place "
                    f"({error.strerror}); earlier results were kept"
                ) from None
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def abort(self) -> None:
        """Remove everything this run wrote; leave earlier results untouched."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        self.lock.release()
        if self.created:
            with contextlib.suppress(OSError):  # rmdir: only if still empty
                self.folder.rmdir()
