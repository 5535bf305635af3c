"""The scan cache: what a scan found (every analysed frame's faces, their tracks and
distances, the tracks' end embeddings; never the frames), kept next to the results.

A rerun that changes only how segments are made or cut (--threshold, --min-gap,
--min-duration, --padding, --copy, --dry-run) re-segments and re-cuts from it without
decoding; an interrupted scan resumes from the chunks that finished. Entries are keyed
by everything that changes what a scan finds: the video's and the photos' contents and
the run's ScanSettings (config.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import ChunkResult
from .config import ReferenceSet, ScanSettings
from .planning import Chunk, Focus
from .process import children
from .segments import Box, Face, FrameFaces

log = logging.getLogger(__name__)

CACHE_DIR = ".facecut-cache"
# Bump when what a scan records changes (detection, tracking or embedding rules), so
# entries written by an older version are never read as if current.
# 2: track splits no longer follow --threshold; refinement track ids by frame
# 3: sampled passes embed every 3rd sample; scene thumbnails from every 4th pixel
# 4: the key holds the whole ScanSettings (metric, tracking constants too)
# 5: tiled BlazeFace searches; refinement chunks look around the edge's face (focus)
# 6: a face's distance to each person searched (several people in one scan)
# 7: a track settles on one person when it matches nobody else (config.verdict)
FORMAT = 7


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            children.raise_if_stopping()  # a long read, maybe on a video thread
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheKey:
    """Everything that changes what a scan records: the inputs' contents and the
    run's ScanSettings, whole (config.py keeps there exactly the settings that change
    a scan, so nothing else can invalidate an entry)."""

    video: str  # content digests
    references: tuple[tuple[str, ...], ...]  # each person's photos (names change nothing)
    scan: ScanSettings
    format: int = FORMAT

    @classmethod
    def of(cls, video: str, people: Sequence[ReferenceSet], scan: ScanSettings) -> CacheKey:
        """The key for these files (read whole, to digest them) and settings."""
        return cls(
            file_digest(video),
            tuple(tuple(file_digest(path) for path in person.photos) for person in people),
            scan,
        )

    def name(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _chunk_doc(chunk: Chunk) -> dict[str, Any]:
    return {
        "index": chunk.index,
        "start": chunk.start_frame,
        "stop": chunk.stop_frame,
        "interval": chunk.interval,
        "refine": chunk.refine,
        "focus": None if chunk.focus is None else asdict(chunk.focus),
    }


def _chunk(doc: dict[str, Any]) -> Chunk:
    return Chunk(
        int(doc["index"]),
        int(doc["start"]),
        int(doc["stop"]),
        int(doc["interval"]),
        bool(doc["refine"]),
        None if doc.get("focus") is None else Focus(**{k: int(v) for k, v in doc["focus"].items()}),
    )


def encode(result: ChunkResult) -> dict[str, Any]:
    return {
        "chunk": _chunk_doc(result.chunk),
        "frames": [
            [
                frame.frame,
                [
                    [f.box.x, f.box.y, f.box.w, f.box.h, f.confidence, f.distances, f.track]
                    for f in frame.faces
                ],
            ]
            for frame in result.frames
        ],
        "frames_decoded": result.frames_decoded,
        "track_ends": {
            str(track): [first.tolist(), last.tolist()]
            for track, (first, last) in result.track_ends.items()
        },
        "partial": sorted(result.partial),
    }


def decode(doc: dict[str, Any]) -> ChunkResult:
    frames = tuple(
        FrameFaces(
            int(frame),
            tuple(
                Face(
                    Box(int(x), int(y), int(w), int(h)),
                    float(confidence),
                    None if distances is None else tuple(float(d) for d in distances),
                    int(track),
                )
                for x, y, w, h, confidence, distances, track in faces
            ),
        )
        for frame, faces in doc["frames"]
    )
    ends = {
        int(track): (np.asarray(first, dtype=np.float64), np.asarray(last, dtype=np.float64))
        for track, (first, last) in doc["track_ends"].items()
    }
    return ChunkResult(
        _chunk(doc["chunk"]),
        frames,
        int(doc["frames_decoded"]),
        ends,
        frozenset(int(f) for f in doc["partial"]),
    )


class ScanCache:
    """One video's cached scan for one key, in <output>/.facecut-cache/<key>/. Writes
    are atomic (temporary file, then rename); a file that cannot be read is ignored
    and scanned again; a folder that cannot be written turns caching off with one
    warning instead of failing the run."""

    def __init__(self, output: Path, key: CacheKey) -> None:
        self.folder = output / CACHE_DIR / key.name()
        self.key = key
        self.enabled = True
        self.loaded = 0  # chunks served from the cache this run
        self._plan: list[Chunk] | None = None  # written with the first finished chunk

    def _file(self, chunk: Chunk) -> Path:
        kind = "refine" if chunk.refine else "chunk"
        name = f"{kind}-{chunk.start_frame}-{chunk.stop_frame}-{chunk.interval}"
        if chunk.focus is not None:
            # a rerun with another --threshold may refine the same frames elsewhere
            focus = chunk.focus
            name += f"-at-{focus.x}-{focus.y}-{focus.w}-{focus.h}-{focus.smallest}"
        return self.folder / f"{name}.json"

    def plan(self) -> list[Chunk] | None:
        """The first pass's chunks as planned when this scan began (so a rerun with
        another --num_processes still finds its finished chunks)."""
        try:
            doc = json.loads((self.folder / "plan.json").read_text())
            return [_chunk(item) for item in doc["chunks"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save_plan(self, chunks: Sequence[Chunk]) -> None:
        """Remember the plan; it is written with the first finished chunk, so a run
        stopped before any chunk finished leaves nothing behind."""
        self._plan = list(chunks)

    def load(self, chunk: Chunk) -> ChunkResult | None:
        path = self._file(chunk)
        if not path.is_file():
            return None
        try:
            result = decode(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning(f"{path}: unreadable scan cache entry ({error}); scanning that part again")
            return None
        if result.chunk != chunk:
            return None
        self.loaded += 1
        log.debug(f"{path}: chunk read from the scan cache")
        return result

    def save(self, result: ChunkResult) -> None:
        if result.frames_decoded < result.chunk.frame_count:
            # cut short (damaged file, or a decoder killed by a signal): scan it again
            # next time rather than keep a partial chunk as if it were whole
            return
        if self._plan is not None:
            self._write(
                "plan.json",
                {"key": asdict(self.key), "chunks": [_chunk_doc(chunk) for chunk in self._plan]},
            )
            self._plan = None
        self._write(self._file(result.chunk).name, encode(result))

    def _write(self, name: str, doc: dict[str, Any]) -> None:
        if not self.enabled:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(doc, out, separators=(",", ":"))
                os.replace(temporary, self.folder / name)
            finally:
                Path(temporary).unlink(missing_ok=True)  # only there if something failed
        except OSError as error:
            self.enabled = False
            log.warning(
                f"{self.folder}: cannot keep the scan cache ({error.strerror}); "
                "continuing without it"
            )
