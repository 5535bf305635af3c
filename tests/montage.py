"""Build labelled test videos from ../shared/media (never copied into the repo).

A montage is a list of parts, each a few seconds of one clip (or two clips side by
side, or a faceless stretch), scaled and padded to one frame size and joined with
ffmpeg's concat filter. Parts keep their own frame rate (30 or 25 fps), so the
result is variable-frame-rate; its timestamps use a 1/15000 time base in which both
rates are exact, so every frame's time and label are known exactly.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"
CLIPS = MEDIA / "clips"
PHOTOS = MEDIA / "photos"
TIMESCALE = 15000  # divisible by 30 and 25: frame times are exact integers


@dataclass(frozen=True)
class Part:
    """`seconds` of `sources` starting at `start` (source time), at `fps`.

    One source: a full-frame part. Two sources: side by side (hstack), audio from
    the first. No source: a faceless grey stretch with faint noise for sound.
    """

    sources: tuple[str, ...]
    start: float
    seconds: int
    fps: int
    target: bool
    vf: str = ""  # extra ffmpeg filters on this part (after scaling), e.g. a blur

    @property
    def frames(self) -> int:
        return self.seconds * self.fps


@dataclass
class Montage:
    path: Path
    parts: list[Part]
    width: int
    height: int
    frame_starts: list[Fraction] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return sum(part.frames for part in self.parts)

    def target_segments(self) -> list[tuple[int, int]]:
        """Inclusive frame ranges where the target is on screen, adjacent parts merged."""
        ranges: list[tuple[int, int]] = []
        first = 0
        for part in self.parts:
            last = first + part.frames - 1
            if part.target:
                if ranges and ranges[-1][1] == first - 1:
                    ranges[-1] = (ranges[-1][0], last)
                else:
                    ranges.append((first, last))
            first = last + 1
        return ranges

    def source_segments(self, source: str) -> list[tuple[int, int]]:
        """Inclusive frame ranges where `source` (a clip's file name) is on screen,
        alone or beside someone, adjacent parts merged."""
        ranges: list[tuple[int, int]] = []
        for index, part in enumerate(self.parts):
            if source in part.sources:
                frames = self.part_frames(index)
                if ranges and ranges[-1][1] == frames[0] - 1:
                    ranges[-1] = (ranges[-1][0], frames[-1])
                else:
                    ranges.append((frames[0], frames[-1]))
        return ranges

    def part_frames(self, index: int) -> range:
        """The montage's frames that show part `index`."""
        first = sum(part.frames for part in self.parts[:index])
        return range(first, first + self.parts[index].frames)

    def content_boxes(self, index: int) -> list[tuple[int, int, int, int]]:
        """Where each source of part `index` is pictured in the montage's frame, as
        (left, top, right, bottom) pixel bounds (right and bottom exclusive), left to
        right: the scaled picture inside its letterbox or pillarbox bars."""
        part = self.parts[index]
        if not part.sources:
            return []
        slot = self.width // len(part.sources)
        boxes = []
        for k, source in enumerate(part.sources):
            x, y, w, h = fitted(source_size(CLIPS / source), slot, self.height)
            boxes.append((k * slot + x, y, k * slot + x + w, y + h))
        return boxes

    def target_frames(self) -> set[int]:
        return {f for a, b in self.target_segments() for f in range(a, b + 1)}

    def time_of(self, frame: int) -> Fraction:
        """Exact start time of a frame, from the parts' frame rates."""
        time = Fraction(0)
        for part in self.parts:
            if frame < part.frames:
                return time + Fraction(frame, part.fps)
            frame -= part.frames
            time += part.seconds
        return time


def source_size(path: Path) -> tuple[int, int]:
    """A clip's or photo's picture size (width, height), by ffprobe."""
    exe = shutil.which("ffprobe")
    assert exe, "tests need ffprobe"
    out = subprocess.run([exe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    width, height = out.strip().split(",")[:2]
    return int(width), int(height)


def fitted(size: tuple[int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a `size` picture after `_fit(width, height)`, the way ffmpeg
    computes it: scale's force_original_aspect_ratio=decrease keeps the smaller of
    width x height and the aspect-preserving sizes rounded to the nearest pixel;
    pad's offsets (ow-iw)/2 are rounded down to even for 4:2:0 chroma."""
    source_w, source_h = size
    w = min(width, round(height * source_w / source_h))
    h = min(height, round(width * source_h / source_w))
    x, y = (width - w) // 2, (height - h) // 2
    return x - x % 2, y - y % 2, w, h


def _fit(width: int, height: int) -> str:
    """Scale into width x height keeping the aspect ratio, centred on black bars."""
    return (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1")


def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def build(parts: list[Part], out: Path, width: int = 640, height: int = 360,
          audio: bool = True) -> Montage:
    inputs: list[str] = []
    filters: list[str] = []
    labels: list[str] = []

    def add_input(name: str) -> int:
        inputs.extend(["-i", str(CLIPS / name)])
        return len(inputs) // 2 - 1

    for i, part in enumerate(parts):
        timing = (f"trim=start={part.start}:duration={part.seconds},setpts=PTS-STARTPTS,"
                  f"fps={part.fps}")
        audio_timing = (f"atrim=start={part.start}:duration={part.seconds},asetpts=PTS-STARTPTS,"
                        "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo")
        if not part.sources:
            filters.append(f"color=c=0x303030:s={width}x{height}:r={part.fps}:d={part.seconds},"
                           f"setsar=1,format=yuv420p,settb=1/{TIMESCALE}[v{i}]")
            filters.append(f"anoisesrc=d={part.seconds}:c=pink:r=44100:a=0.02,"
                           f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]")
        elif len(part.sources) == 1:
            k = add_input(part.sources[0])
            extra = f",{part.vf}" if part.vf else ""
            filters.append(f"[{k}:v]{timing},{_fit(width, height)}{extra},format=yuv420p,"
                           f"settb=1/{TIMESCALE}[v{i}]")
            filters.append(f"[{k}:a]{audio_timing}[a{i}]")
        else:
            k1, k2 = add_input(part.sources[0]), add_input(part.sources[1])
            half = width // 2
            filters.append(f"[{k1}:v]{timing},{_fit(half, height)}[l{i}]")
            filters.append(f"[{k2}:v]{timing},{_fit(half, height)}[r{i}]")
            filters.append(f"[l{i}][r{i}]hstack=inputs=2,format=yuv420p,settb=1/{TIMESCALE}[v{i}]")
            filters.append(f"[{k1}:a]{audio_timing}[a{i}]")
        labels.append(f"[v{i}][a{i}]")
    filters.append(f"{''.join(labels)}concat=n={len(parts)}:v=1:a=1[v][a]")
    return _encode(inputs, filters, parts, out, width, height, audio)


def build_stills(stills: Sequence[tuple[Path, bool]], out: Path, seconds: int = 3,
                 fps: int = 30, width: int = 640, height: int = 360) -> Montage:
    """A silent slideshow: each photo held for `seconds` at `fps`, scaled and padded
    to one frame size; the flag says whether it is a photo of the person searched
    for. (Its parts' `sources` hold the photos' paths.)"""
    inputs: list[str] = []
    filters: list[str] = []
    parts = []
    for i, (photo, target) in enumerate(stills):
        inputs += ["-loop", "1", "-framerate", str(fps), "-t", str(seconds), "-i", str(photo)]
        filters.append(f"[{i}:v]{_fit(width, height)},fps={fps},format=yuv420p,"
                       f"settb=1/{TIMESCALE}[v{i}]")
        parts.append(Part((str(photo),), 0, seconds, fps, target))
    filters.append(f"{''.join(f'[v{i}]' for i in range(len(stills)))}"
                   f"concat=n={len(stills)}:v=1:a=0[v]")
    return _encode(inputs, filters, parts, out, width, height, audio=False)


def _encode(inputs: list[str], filters: list[str], parts: Sequence[Part], out: Path,
            width: int, height: int, audio: bool) -> Montage:
    """Run the filter graph into `out` and check every frame is where the parts say."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
               "-filter_complex", ";".join(filters), "-map", "[v]"]
    if audio:
        command += ["-map", "[a]", "-c:a", "aac", "-b:a", "160k"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "48",
                "-fps_mode", "passthrough", "-video_track_timescale", str(TIMESCALE),
                "-movflags", "+faststart", str(out)]
    subprocess.run(command, check=True)
    montage = Montage(out, list(parts), width, height)
    montage.frame_starts = probe_frame_starts(out)
    if len(montage.frame_starts) != montage.frame_count:
        raise RuntimeError(f"montage has {len(montage.frame_starts)} frames, expected "
                           f"{montage.frame_count}")
    for index in (0, montage.frame_count // 2, montage.frame_count - 1):
        if abs(montage.frame_starts[index] - montage.time_of(index)) > Fraction(1, 1000):
            raise RuntimeError(f"montage frame {index} is at {float(montage.frame_starts[index])}"
                               f" s, expected {float(montage.time_of(index))} s")
    return montage


def probe_frame_starts(path: Path) -> list[Fraction]:
    """Presentation times of the first video stream's frames, by ffprobe (independent
    of the tool's own probing)."""
    exe = shutil.which("ffprobe")
    assert exe, "tests need ffprobe"
    base = subprocess.run([exe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                           "stream=time_base", "-of", "csv=p=0", str(path)],
                          check=True, capture_output=True, text=True).stdout.strip()
    num, den = base.split("/")
    out = subprocess.run([exe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return sorted(int(line.split(",")[0]) * Fraction(int(num), int(den))
                  for line in out.split() if line.strip() and line.split(",")[0] != "N/A")


def head_turn(first: int, frames: int, narrowest: float) -> str:
    """A `Part.vf` filter that simulates a head turning away and back: from the
    part's frame `first`, over `frames` frames, the picture is foreshortened like a
    plane turning about its left edge, down to `narrowest` of its width halfway (0.34
    is a turn of about 70 degrees). Planar, so only an approximation of a real turn:
    the face narrows and the detector and recogniser see it as they would a
    turned face, without the profile's new features."""
    amount = (fr"(if(between(in\,{first}\,{first + frames - 1})\,"
              fr"sin(PI*(in-{first - 1})/{frames + 1})\,0))")
    squeeze = 1 - narrowest
    return (f"perspective=x0=0:y0=0:x1=W*(1-{squeeze}*{amount}):y1=H*0.22*{amount}:"
            f"x2=0:y2=H:x3=W*(1-{squeeze}*{amount}):y3=H*(1-0.22*{amount}):"
            "sense=destination:eval=frame")


TARGET = "d9.mp4"  # man with glasses; the reference is taken from its 18.5 s mark


def standard_parts() -> list[Part]:
    """The montage the end-to-end tests use: 17 s, 8 parts, target three times
    (once beside another person), a faceless stretch, 30 and 25 fps parts."""
    return [
        Part(("d3.mp4",), 0, 2, 30, False),
        Part((TARGET,), 0, 3, 30, True),
        Part((), 0, 1, 30, False),
        Part(("d20.mp4",), 0, 2, 25, False),
        Part((TARGET, "d14.mp4"), 3, 2, 30, True),
        Part(("d10.mp4",), 0, 2, 30, False),
        Part((TARGET,), 6, 3, 25, True),
        Part(("d19.mp4",), 0, 2, 30, False),
    ]


def benchmark_parts() -> list[Part]:
    """The benchmark montage: 62 s at a constant 30 fps (build it at 1280x720), the
    target three times (once beside another person), a faceless stretch, and a cut
    between two similar-looking men on grey backdrops."""
    return [
        Part(("d3.mp4",), 0, 6, 30, False),
        Part((TARGET,), 0, 8, 30, True),
        Part((), 0, 3, 30, False),
        Part(("d20.mp4",), 0, 6, 30, False),
        Part((TARGET, "d14.mp4"), 8, 6, 30, True),
        Part(("d10.mp4",), 0, 8, 30, False),
        Part((TARGET,), 14, 4, 30, True),
        Part(("d18.mp4",), 0, 7, 30, False),
        Part(("d19.mp4",), 0, 8, 30, False),
        Part(("d10.mp4",), 8, 6, 30, False),
    ]


def reference_photo(out: Path, source: str = TARGET, at: float = 18.5) -> Path:
    """A still of the target from a moment the montage does not use."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg(), "-nostdin", "-loglevel", "error", "-y", "-ss", str(at), "-i",
                    str(CLIPS / source), "-frames:v", "1", str(out)], check=True)
    return out
