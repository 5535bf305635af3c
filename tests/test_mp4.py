"""Ending a stream-copied mp4 clip on its last frame, and counting the frames it shows,
on small clips ffmpeg makes here (a test pattern with B-frames), checked against
ffprobe's own packet list."""
from __future__ import annotations

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from checks import video_frame_count
from facecut.mp4 import Mp4Error, boxes, end_at, shown_frames
from montage import ffmpeg


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 31..90 (2 s at 30 fps) of a pattern with a keyframe every 60 frames and 3
    B-frames, stream-copied as the exact mode does: its edit list starts on frame 31,
    and its last packets run past frame 90."""
    folder = tmp_path_factory.mktemp("mp4")
    source = folder / "pattern.mp4"
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=30:duration=4", "-c:v", "libx264", "-g", "60",
                    "-bf", "3", "-pix_fmt", "yuv420p", str(source)], check=True)
    clip = folder / "clip.mp4"
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-ss", f"{31 / 30:.6f}", "-i",
                    str(source), "-t", "2.000000", "-c", "copy", "-use_editlist", "1",
                    "-movflags", "+faststart", str(clip)], check=True)
    return clip


def test_a_plain_copy_runs_long_and_the_count_agrees_with_ffprobe(copied):
    data = copied.read_bytes()
    shown = shown_frames(data)
    assert shown == video_frame_count(copied)  # ffprobe: packets not flagged D
    assert shown > 60  # B-frames shown after frame 90 came along


def test_end_at_hides_the_frames_after_the_end(copied, tmp_path):
    ended = end_at(copied.read_bytes(), Fraction(2))
    assert len(ended) == len(copied.read_bytes())  # fields rewritten in place
    assert shown_frames(ended) == 60
    path = tmp_path / "ended.mp4"
    path.write_bytes(ended)
    assert video_frame_count(path) == 60  # ffprobe agrees


def test_end_at_never_lengthens(copied):
    data = copied.read_bytes()
    assert end_at(data, Fraction(100)) == data


@pytest.mark.parametrize("data, problem", [
    (b"", "no movie header"),
    (struct.pack(">I4s", 8, b"ftyp"), "no movie header"),
    (struct.pack(">I4s", 64, b"moov"), "runs past its parent"),
])
def test_not_an_editable_mp4(data, problem):
    with pytest.raises(Mp4Error, match=problem):
        end_at(data, Fraction(1))


def test_boxes_are_walked_into_the_sample_tables(copied):
    paths = {box.path for box in boxes(copied.read_bytes())}
    assert {"moov/mvhd", "moov/trak/edts/elst", "moov/trak/mdia/mdhd",
            "moov/trak/mdia/minf/stbl/stts", "moov/trak/mdia/minf/stbl/ctts"} <= paths
