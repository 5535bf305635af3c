"""Ending a stream-copied MP4 clip on its exact last frame (pure: bytes in, bytes out).

A clip copied with `ffmpeg -ss START -i SOURCE -t DURATION -c copy` starts on the exact
frame: ffmpeg writes an edit list (moov/trak/edts/elst) whose media time skips the
frames from the keyframe before START, which the decoder needs but players do not
show. Its end is not exact. Packets go out in decode order, so with B-frames the last
packets include frames shown after the end: measured on H.264 and HEVC with 3
B-frames, a 120-frame cut held 122 (source frames 91..210, then 212 and 214). They
may be references of the frames before them, so they stay in the file, and the edit
list's duration hides them: every track's last edit, its track header and the movie
header are set to the clip's exact duration. ffmpeg then decodes exactly frames
91..210, and Chromium's player reports the exact duration and starts on frame 91
(README, "Clips").

Only fixed-size fields are rewritten, in place: no box moves, no chunk offset changes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

# Boxes whose payload is a list of boxes, on the way to the ones we edit.
_CONTAINERS = frozenset({"moov", "trak", "edts", "mdia", "minf", "stbl"})


class Mp4Error(ValueError):
    """The bytes are not an MP4 this module can edit (no movie header, no edit list)."""


@dataclass(frozen=True)
class Box:
    kind: str
    path: str  # e.g. "moov/trak/edts/elst"
    start: int  # offset of the box's payload (after its header)
    end: int  # offset one past the box


def boxes(data: bytes, start: int = 0, end: int | None = None, parent: str = "") -> Iterator[Box]:
    """Every box under `parent`, depth first, descending into moov, trak, edts, mdia,
    minf and stbl."""
    end = len(data) if end is None else end
    position = start
    while position + 8 <= end:
        size, raw = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:  # 64-bit size follows the type
            if position + 16 > end:
                raise Mp4Error("truncated box header")
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:  # to the end of the file
            size = end - position
        if size < header or position + size > end:
            raise Mp4Error(f"box at offset {position} runs past its parent")
        kind = raw.decode("latin-1")
        path = f"{parent}/{kind}" if parent else kind
        yield Box(kind, path, position + header, position + size)
        if kind in _CONTAINERS:
            yield from boxes(data, position + header, position + size, path)
        position += size


def _duration_field(data: bytes | bytearray, box: Box) -> tuple[int, str]:
    """Offset and struct format of a full box's duration (mvhd, tkhd), by version."""
    version = data[box.start]
    if box.kind == "mvhd":  # version, flags, created, modified, timescale, duration
        return (box.start + 16, ">I") if version == 0 else (box.start + 24, ">Q")
    # tkhd: version, flags, created, modified, track id, reserved, duration
    return (box.start + 20, ">I") if version == 0 else (box.start + 28, ">Q")


def _movie_timescale(data: bytes, mvhd: Box) -> int:
    version = data[mvhd.start]
    offset = mvhd.start + (12 if version == 0 else 20)
    (timescale,) = struct.unpack_from(">I", data, offset)
    if timescale <= 0:
        raise Mp4Error("the movie header has no timescale")
    return int(timescale)


def _set_at_most(data: bytearray, offset: int, layout: str, value: int) -> None:
    (current,) = struct.unpack_from(layout, data, offset)
    struct.pack_into(layout, data, offset, min(int(current), value))


def end_at(data: bytes, seconds: Fraction) -> bytes:
    """The file with every track cut off at `seconds` (never lengthened): the last
    edit's segment duration, each track header's and the movie header's duration.
    Durations are in the movie's timescale (ffmpeg writes 1000): rounded to the
    nearest unit, the end lies within half a millisecond of the exact one, far
    inside any frame. Raises Mp4Error if a track has no edit list to shorten."""
    found = list(boxes(data))
    headers = [box for box in found if box.path == "moov/mvhd"]
    if not headers:
        raise Mp4Error("no movie header (moov/mvhd)")
    timescale = _movie_timescale(data, headers[0])
    units = round(seconds * timescale)
    tracks = [box for box in found if box.path == "moov/trak"]
    edits = [box for box in found if box.path == "moov/trak/edts/elst"]
    if not tracks or len(edits) != len(tracks):
        raise Mp4Error(f"{len(tracks)} track(s) but {len(edits)} edit list(s)")
    out = bytearray(data)
    for elst in edits:
        version = out[elst.start]
        (count,) = struct.unpack_from(">I", out, elst.start + 4)
        if count < 1:
            raise Mp4Error("an edit list without entries")
        entry = 12 if version == 0 else 20
        last = elst.start + 8 + (count - 1) * entry
        if last + entry > elst.end:
            raise Mp4Error("an edit list runs past its box")
        _set_at_most(out, last, ">I" if version == 0 else ">Q", units)
    for box in found:
        if box.path in ("moov/mvhd", "moov/trak/tkhd"):
            offset, layout = _duration_field(out, box)
            _set_at_most(out, offset, layout, units)
    return bytes(out)


def _track_boxes(data: bytes, found: list[Box], trak: Box) -> dict[str, Box]:
    """The boxes of one track, by their path below it (e.g. "mdia/mdhd")."""
    inside = {}
    for box in found:
        if trak.start <= box.start and box.end <= trak.end and box is not trak:
            inside[box.path.removeprefix("moov/trak/")] = box
    return inside


def _sample_times(data: bytes, stts: Box, ctts: Box | None) -> list[int]:
    """Each sample's presentation time (decode time plus composition offset), in the
    track's timescale, in file order."""
    (count,) = struct.unpack_from(">I", data, stts.start + 4)
    times, clock = [], 0
    for entry in range(count):
        samples, delta = struct.unpack_from(">II", data, stts.start + 8 + 8 * entry)
        for _ in range(samples):
            times.append(clock)
            clock += delta
    if ctts is not None:
        version = data[ctts.start]
        (count,) = struct.unpack_from(">I", data, ctts.start + 4)
        index = 0
        for entry in range(count):
            samples, offset = struct.unpack_from(
                ">Ii" if version else ">II", data, ctts.start + 8 + 8 * entry
            )
            for _ in range(samples):
                if index < len(times):
                    times[index] += offset
                index += 1
    return times


def shown_frames(data: bytes) -> int:
    """How many frames of the first video track a player that honours the edit list
    shows: samples whose presentation time falls inside its (single) edit. What
    ffmpeg's mov demuxer shows, without running anything (the packet check of every
    exact clip)."""
    found = list(boxes(data))
    headers = [box for box in found if box.path == "moov/mvhd"]
    if not headers:
        raise Mp4Error("no movie header (moov/mvhd)")
    movie_scale = _movie_timescale(data, headers[0])
    for trak in (box for box in found if box.path == "moov/trak"):
        track = _track_boxes(data, found, trak)
        handler = track.get("mdia/hdlr")
        if handler is None or data[handler.start + 8 : handler.start + 12] != b"vide":
            continue
        mdhd, stts, elst = (
            track.get("mdia/mdhd"),
            track.get("mdia/minf/stbl/stts"),
            track.get("edts/elst"),
        )
        if mdhd is None or stts is None or elst is None:
            raise Mp4Error("the video track has no media header, sample times or edit list")
        version = data[mdhd.start]
        (scale,) = struct.unpack_from(">I", data, mdhd.start + (12 if version == 0 else 20))
        version = data[elst.start]
        (count,) = struct.unpack_from(">I", data, elst.start + 4)
        if count != 1:
            raise Mp4Error(f"the video track's edit list has {count} entries, not 1")
        duration, media_time = struct.unpack_from(
            ">Ii" if version == 0 else ">Qq", data, elst.start + 8
        )
        end = media_time + Fraction(duration * scale, movie_scale)
        times = _sample_times(data, stts, track.get("mdia/minf/stbl/ctts"))
        return sum(1 for time in times if media_time <= time < end)
    raise Mp4Error("no video track")
