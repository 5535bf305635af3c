"""A face-size ladder: labelled 1080p videos that show the target at known face sizes.

Why: a detector's smallest face is what decides whether a wide shot (a stage, a panel,
a crowd) finds the person at all, and the montages of montage.py only show faces of
150-300 px. A ladder shows the target (montage.TARGET, d9) at a list of face widths,
each for a few seconds after a stretch without him, in a scene where six other real
people talk the whole time, some with large faces and some with faces as small as the
target's smallest: so a run tells, size by size, which frames it found, whether it
found them on the target's face, and whether it matched anyone else.

"Face width" means the width of the box dlib's HOG frontal face detector (upsample 1)
draws, the box the tool's default detector reports. Each clip is calibrated at its
native resolution (`calibrate`), then scaled so its median box width becomes the width
asked for. Measured here (dlib 20.0.1, every 30th frame): d9 0-15 s: median 268 px (13
of 15 frames 268, two 223); d3 321; d10 268; d14 268; d18 223; d19 268; d20 186. HOG's
boxes come from an image pyramid with steps of 1.2x, so a box's width is one of a
few values (185, 223, 268, 321, ...): a face scaled to N px measures N only to within
about +-10%, and the boxes recorded here (the median box scaled and moved) are
approximate, as is any box of a talking, moving head.

Every frame's time is checked with ffprobe (constant frame rate, 1/15000 time base as
in montage.py), and every frame's label by looking at the picture: the target's face
region is textured on exactly the frames the ladder says he is shown.
"""
from __future__ import annotations

import functools
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from montage import CLIPS, TARGET, TIMESCALE, ffmpeg, probe_frame_starts, source_size

# The stretch of the target's clip the ladder shows: montage.reference_photo takes the
# reference at 18.5 s, a moment no ladder uses.
TARGET_SPAN = 15
BACKGROUND = "0x303030"  # dark grey: the scene's floor between the people
# Where the target's face centre is put, in a 1920x1080 frame (scaled for other frame
# sizes): right of centre, clear of every other person at every size of the ladder.
TARGET_CENTRE = (1400, 520)


@dataclass(frozen=True)
class Box:
    """A rectangle in frame pixels: (x, y) its top-left corner, w x h its size, as
    metadata.json's detection boxes are written."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)


@dataclass(frozen=True)
class Calibration:
    """dlib's HOG box of a clip's face at the clip's native resolution: the median
    centre and size over the frames measured (those with exactly one face)."""

    clip: str
    size: tuple[int, int]  # the clip's picture, width x height
    frames: int  # frames with one face found, of those measured
    centre: tuple[float, float]
    width: float  # the median box width: the calibration's scale is wanted / width
    height: float


@dataclass(frozen=True)
class Person:
    """One clip placed in the scene: its picture, scaled so the face box is about
    `face_width` pixels wide, and where that face box is."""

    clip: str
    face_width: int  # asked for (dlib box width, frame pixels)
    picture: Box  # the scaled clip in the frame
    face: Box  # approximate: the calibration's median box, scaled and moved


@dataclass(frozen=True)
class Rung:
    """The target shown at one face size, on frames `first`..`last` (inclusive)."""

    size: int  # face width asked for (dlib box width, frame pixels)
    first: int
    last: int
    source_start: int  # seconds into the target's clip this rung shows
    picture: Box
    face: Box  # approximate, as Person.face

    @property
    def frames(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True)
class Ladder:
    path: Path
    fps: int
    frame_count: int
    width: int
    height: int
    rungs: tuple[Rung, ...]  # in time order
    others: tuple[Person, ...]  # on screen on every frame
    target_box_width: float  # d9's median HOG box width at native size (calibration)
    audio_from: str  # the clip whose sound the video carries, looped

    @property
    def duration(self) -> Fraction:
        return Fraction(self.frame_count, self.fps)

    def time_of(self, frame: int) -> Fraction:
        return Fraction(frame, self.fps)

    def target_segments(self) -> list[tuple[int, int]]:
        """Inclusive frame ranges where the target is on screen, adjacent rungs merged
        (as Montage.target_segments: what a perfect run reports)."""
        ranges: list[tuple[int, int]] = []
        for rung in self.rungs:
            if ranges and ranges[-1][1] == rung.first - 1:
                ranges[-1] = (ranges[-1][0], rung.last)
            else:
                ranges.append((rung.first, rung.last))
        return ranges

    def target_frames(self) -> set[int]:
        return {f for rung in self.rungs for f in rung.frames}

    def rung_at(self, frame: int) -> Rung | None:
        """The rung showing the target on `frame`, or None where he is not shown."""
        return next((rung for rung in self.rungs if rung.first <= frame <= rung.last), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, so a benchmark can keep a built ladder beside its video."""
        doc = asdict(self)
        doc["path"] = str(self.path)
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Ladder:
        def person(d: dict[str, Any]) -> Person:
            return Person(d["clip"], d["face_width"], Box(**d["picture"]), Box(**d["face"]))

        def rung(d: dict[str, Any]) -> Rung:
            return Rung(d["size"], d["first"], d["last"], d["source_start"],
                        Box(**d["picture"]), Box(**d["face"]))

        return cls(Path(doc["path"]), doc["fps"], doc["frame_count"], doc["width"],
                   doc["height"], tuple(rung(r) for r in doc["rungs"]),
                   tuple(person(p) for p in doc["others"]), doc["target_box_width"],
                   doc["audio_from"])


# The other people of the ladder, as (clip, face width, face centre in a 1920x1080
# frame): two large faces, one medium, three small ones down to the ladder's own small
# sizes (d19, another man with glasses, at 48 px), so a detector that finds small faces
# must also tell them apart. Their sound: the first one's.
OTHERS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    ("d14.mp4", 200, (300, 300)),
    ("d3.mp4", 200, (720, 800)),
    ("d10.mp4", 96, (720, 250)),
    ("d18.mp4", 60, (1060, 870)),
    ("d19.mp4", 48, (1740, 170)),
    ("d20.mp4", 40, (1740, 930)),
)
# build_small_face's: one large face and one small one (the other man with glasses).
SMALL_OTHERS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    ("d14.mp4", 200, (300, 300)),
    ("d19.mp4", 48, (1740, 170)),
)


# The sizes, and 48 px, the smallest face --speed is asked to find.
LADDER_SIZES = (160, 120, 96, 72, 56, 48, 40, 32)


def build(out: Path, sizes: Sequence[int] = LADDER_SIZES, width: int = 1920,
          height: int = 1080, fps: int = 30, gap_seconds: int = 1,
          show_seconds: int = 3) -> Ladder:
    """The ladder: for each size in `sizes`, `gap_seconds` without the target, then
    `show_seconds` of him at that face width; then a last gap. The six OTHERS talk
    throughout. 33 s at the defaults (990 frames)."""
    return _compose(out, sizes, OTHERS, width, height, fps, gap_seconds, show_seconds)


def build_small_face(out: Path, face_width: int = 40, seconds: int = 4) -> Ladder:
    """A short 1080p video for an end-to-end test: the target at `face_width` from 1 s
    to 1 s before the end (frames 30-89 at the defaults), beside one large and one
    small other face (SMALL_OTHERS) that are there throughout."""
    if seconds < 3:
        raise ValueError("build_small_face needs at least 3 seconds (gap, target, gap)")
    return _compose(out, (face_width,), SMALL_OTHERS, 1920, 1080, 30, 1, seconds - 2)


@functools.cache
def calibrate(clip: str, seconds: int | None = None, every: int = 30) -> Calibration:
    """Measure a clip's face with dlib's HOG detector (upsample 1, as the tool's
    default detector runs it) on every `every`-th frame of its first `seconds` (all of
    it by default), at native resolution. Median centre and size over the frames
    with exactly one face: robust to the odd frame where HOG jumps a pyramid level."""
    import dlib

    width, height = source_size(CLIPS / clip)
    command = [ffmpeg(), "-nostdin", "-v", "error", "-i", str(CLIPS / clip)]
    if seconds is not None:
        command += ["-t", str(seconds)]
    command += ["-vf", f"select='not(mod(n\\,{every}))'", "-fps_mode", "passthrough",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    data = subprocess.run(command, check=True, capture_output=True).stdout
    frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, height, width, 3)
    detector = dlib.get_frontal_face_detector()
    boxes = []
    for frame in frames:
        found = detector(frame, 1)
        if len(found) == 1:
            # as DeepFace's dlib wrapper (and so the tool) measures a box: right - left
            d = found[0]
            boxes.append((d.left(), d.top(), d.right() - d.left(), d.bottom() - d.top()))
    if len(boxes) < 3:
        raise RuntimeError(f"{clip}: dlib found one face on only {len(boxes)} of "
                           f"{len(frames)} frames; cannot calibrate")
    return Calibration(
        clip, (width, height), len(boxes),
        (statistics.median(x + w / 2 for x, _, w, _ in boxes),
         statistics.median(y + h / 2 for _, y, _, h in boxes)),
        statistics.median(w for *_, w, _ in boxes),
        statistics.median(h for *_, h in boxes))


def _even(value: float) -> int:
    """Nearest even integer: 4:2:0 pictures and offsets stay on chroma pixels."""
    return 2 * round(value / 2)


def _place(clip: str, face_width: int, centre: tuple[float, float],
           calibration: Calibration) -> tuple[Box, Box]:
    """The picture box of `clip` scaled so its face is `face_width` wide with the face
    centre at `centre`, and the (approximate) face box that gives."""
    source_w, source_h = calibration.size
    scale = face_width / calibration.width
    w, h = max(2, _even(source_w * scale)), max(2, _even(source_h * scale))
    sx, sy = w / source_w, h / source_h  # what the even sizes really scale by
    cx, cy = calibration.centre
    x, y = _even(centre[0] - cx * sx), _even(centre[1] - cy * sy)
    face_w, face_h = calibration.width * sx, calibration.height * sy
    face = Box(round(x + cx * sx - face_w / 2), round(y + cy * sy - face_h / 2),
               round(face_w), round(face_h))
    return Box(x, y, w, h), face


def _compose(out: Path, sizes: Sequence[int], others: Sequence[tuple[str, int, tuple[int, int]]],
             width: int, height: int, fps: int, gap_seconds: int, show_seconds: int) -> Ladder:
    """Lay the scene out, encode it, and check every frame's time and label."""
    if not sizes or min(sizes) < 8:
        raise ValueError(f"face sizes must be given and at least 8 px: {list(sizes)}")
    if not 0 < show_seconds <= TARGET_SPAN or gap_seconds < 0:
        raise ValueError(f"show_seconds must be 1-{TARGET_SPAN} and gap_seconds >= 0")
    sx, sy = width / 1920, height / 1080
    people = tuple(Person(clip, face_width, *_place(clip, face_width, (cx * sx, cy * sy),
                                                    calibrate(clip)))
                   for clip, face_width, (cx, cy) in others)
    target = calibrate(TARGET, TARGET_SPAN)
    centre = (TARGET_CENTRE[0] * sx, TARGET_CENTRE[1] * sy)
    gap, show = gap_seconds * fps, show_seconds * fps
    starts = range(0, TARGET_SPAN - show_seconds + 1, show_seconds)  # stretches of 0-15 s
    rungs = []
    for i, size in enumerate(sizes):
        first = gap + i * (gap + show)
        picture, face = _place(TARGET, size, centre, target)
        rungs.append(Rung(size, first, first + show - 1, starts[i % len(starts)], picture, face))
    frame_count = len(sizes) * (gap + show) + gap
    frame = Box(0, 0, width, height)
    for index, person in enumerate(people):
        boxes = [p.picture for p in people[index + 1:]] + [r.picture for r in rungs]
        if any(person.picture.overlaps(box) for box in boxes) or not _inside(person.picture, frame):
            raise ValueError(f"{person.clip}'s picture {person.picture} overlaps another or "
                             f"leaves the {width}x{height} frame")
    if not all(_inside(rung.picture, frame) for rung in rungs):
        raise ValueError(f"the target's largest picture leaves the {width}x{height} frame")
    ladder = Ladder(out, fps, frame_count, width, height, tuple(rungs), people, target.width,
                    people[0].clip if people else TARGET)
    _encode(ladder)
    _check_frames(ladder)
    return ladder


def _inside(box: Box, frame: Box) -> bool:
    return (box.x >= frame.x and box.y >= frame.y and box.x + box.w <= frame.x + frame.w
            and box.y + box.h <= frame.y + frame.h)


def _encode(ladder: Ladder) -> None:
    """One filter graph: the grey floor, each other person looped (stream_loop) and
    overlaid for the whole video, then each rung's stretch of the target overlaid on
    its own frames. Every branch is put on the output's frame grid (fps, trim by frame
    count) so no frame is a rounding away from where the ladder says. Encoded as
    montage._encode does (x264 veryfast crf 18, GOP 48, AAC, 1/15000 time base)."""
    fps, frames = ladder.fps, ladder.frame_count
    seconds = Fraction(frames, fps)
    inputs: list[str] = []
    filters = [f"color=c={BACKGROUND}:s={ladder.width}x{ladder.height}:r={fps}:"
               f"d={float(seconds)},format=yuv420p,trim=end_frame={frames}[m0]"]
    overlays = 0

    def overlay(branch: str, box: Box, extra: str = "") -> None:
        nonlocal overlays
        filters.append(f"[m{overlays}][{branch}]overlay=x={box.x}:y={box.y}{extra}"
                       f"[m{overlays + 1}]")
        overlays += 1

    for i, person in enumerate(ladder.others):
        inputs += ["-stream_loop", "-1", "-i", str(CLIPS / person.clip)]
        filters.append(f"[{i}:v]setpts=PTS-STARTPTS,fps={fps},trim=end_frame={frames},"
                       f"scale={person.picture.w}:{person.picture.h},setsar=1[p{i}]")
        overlay(f"p{i}", person.picture)
    for i, rung in enumerate(ladder.rungs):
        shown = rung.last - rung.first + 1
        # its own input, read from source_start: nothing is buffered while earlier rungs
        # play (one decoder split between rungs would hold their frames until their time)
        inputs += ["-ss", str(rung.source_start), "-t", str(shown // fps + 1), "-i",
                   str(CLIPS / TARGET)]
        filters.append(f"[{len(ladder.others) + i}:v]setpts=PTS-STARTPTS,fps={fps},"
                       f"trim=end_frame={shown},"
                       f"setpts=PTS-STARTPTS+{rung.first}/({fps}*TB),"
                       f"scale={rung.picture.w}:{rung.picture.h},setsar=1[t{i}]")
        # shown on exactly its frames (t is the main frame's time), gone after its end
        window = f"between(t\\,{(rung.first - 0.5) / fps:.6f}\\,{(rung.last + 0.5) / fps:.6f})"
        overlay(f"t{i}", rung.picture, f":eof_action=pass:enable='{window}'")
    filters.append(f"[m{overlays}]trim=end_frame={frames},format=yuv420p,"
                   f"settb=1/{TIMESCALE}[v]")
    audio = 0  # the first other person's input, looped like its picture
    if not ladder.others:  # no one else: the target's own clip gives the sound
        audio = len(ladder.rungs)
        inputs += ["-stream_loop", "-1", "-i", str(CLIPS / TARGET)]
    filters.append(f"[{audio}:a]atrim=duration={float(seconds)},asetpts=PTS-STARTPTS,"
                   "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo[a]")
    ladder.path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
                    "-filter_complex", ";".join(filters), "-map", "[v]", "-map", "[a]",
                    "-c:a", "aac", "-b:a", "160k", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "18", "-g", "48", "-fps_mode", "passthrough",
                    "-video_track_timescale", str(TIMESCALE), "-movflags", "+faststart",
                    str(ladder.path)], check=True)


def _check_frames(ladder: Ladder) -> None:
    """Every frame at its time (ffprobe), and the target on exactly his frames: the
    smallest rung's face box, which lies inside every rung's picture, is flat grey
    floor on every other frame and a textured face on his (decoded, one pass)."""
    starts = probe_frame_starts(ladder.path)
    if len(starts) != ladder.frame_count:
        raise RuntimeError(f"{ladder.path} has {len(starts)} frames, expected "
                           f"{ladder.frame_count}")
    wrong = [i for i, start in enumerate(starts) if start != ladder.time_of(i)]
    if wrong:
        raise RuntimeError(f"{ladder.path}: {len(wrong)} frames off the {ladder.fps} fps grid, "
                           f"first {wrong[0]} at {float(starts[wrong[0]])} s")
    box = min(ladder.rungs, key=lambda rung: rung.size).face
    data = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(ladder.path),
                           "-vf", f"crop={box.w}:{box.h}:{box.x}:{box.y},format=gray",
                           "-fps_mode", "passthrough", "-f", "rawvideo", "-"],
                          check=True, capture_output=True).stdout
    region = np.frombuffer(data, dtype=np.uint8).reshape(-1, box.h * box.w).astype(np.float64)
    # the floor is one flat colour (std ~0 after x264); a face at 32 px is far from flat
    shown = region.std(axis=1) > 4.0
    truth = ladder.target_frames()
    mislabelled = [i for i in range(len(region)) if shown[i] != (i in truth)]
    if len(region) != ladder.frame_count or mislabelled:
        raise RuntimeError(f"{ladder.path}: the target's region disagrees with the labels on "
                           f"{len(mislabelled)} frames, e.g. {mislabelled[:10]}")
