"""Probing real files, with ffprobe and with the ffmpeg-only fallback."""
from __future__ import annotations

from fractions import Fraction

import pytest

import montage as montage_builder
from facecut import tools
from facecut.cut import COPY_EXACT, COPY_KEYFRAME, REENCODE, ClipJob, clip_command
from facecut.decode import read_frames
from facecut.errors import VideoError
from facecut.probe import probe

pytestmark = [pytest.mark.media]


def test_probe_constant_rate_clip():
    info = probe(str(montage_builder.CLIPS / "d9.mp4"))
    assert info.fps == Fraction(30)
    assert info.frame_count == 587
    assert (info.width, info.height) == (512, 480)
    assert info.has_audio and info.audio_streams == 1
    assert info.clock.start_of(586) == Fraction(586, 30)
    assert not info.variable_frame_rate


def test_probe_variable_rate_montage_matches_its_construction(montage):
    info = probe(str(montage.path))
    assert info.frame_count == montage.frame_count
    assert info.variable_frame_rate
    for frame in range(montage.frame_count):
        assert info.clock.start_of(frame) == montage.time_of(frame)
    # the last frame's duration is the muxer's estimate (the average frame period)
    assert abs(info.clock.end - montage.time_of(montage.frame_count)) < Fraction(1, 30)


def test_ffmpeg_only_probe_agrees_with_ffprobe(montage, monkeypatch):
    """imageio-ffmpeg ships no ffprobe: the fallback must give the same answers."""
    full = probe(str(montage.path))
    monkeypatch.setattr(tools, "_tools", tools.Tools(tools.find_tools().ffmpeg, None))
    fallback = probe(str(montage.path))
    assert fallback.clock.starts == full.clock.starts
    assert abs(fallback.clock.end - full.clock.end) < Fraction(1, 1000)
    assert fallback.fps == pytest.approx(full.fps, rel=1e-3)
    assert (fallback.width, fallback.height, fallback.audio_streams, fallback.rotation) == \
           (full.width, full.height, full.audio_streams, full.rotation)


def test_decoding_a_chunk_starts_on_the_right_frame(montage):
    """Frames read from a mid-video seek equal the same frames read from the start."""
    import numpy as np

    info = probe(str(montage.path))
    from_start = list(read_frames(info, 0, 64))
    assert [index for index, _ in from_start] == list(range(64))
    for first in (59, 200, 484):  # 30 fps part, 25 fps part, the last frame
        from_seek = list(read_frames(info, first, first + 5))
        assert [index for index, _ in from_seek] == list(range(first, min(first + 5, 485)))
        if first == 59:
            for index, frame in from_seek:
                assert np.array_equal(frame, from_start[index][1])


@pytest.mark.parametrize("source", ["clip", "montage"])
def test_reading_every_nth_frame_gives_exactly_those_frames(source, montage):
    """With every=N, ffmpeg drops the other frames itself on constant-rate video (the
    clip); the variable-rate montage takes the Python path. Either way the frames
    are exactly the multiples of N, pixel for pixel the same as reading them all."""
    import numpy as np

    path = str(montage_builder.CLIPS / "d9.mp4") if source == "clip" else str(montage.path)
    info = probe(path)
    assert (info.clock.regular_grid() is not None) == (source == "clip")
    start, stop = 100, 200
    every_frame = dict(read_frames(info, start, stop))
    sampled = list(read_frames(info, start, stop, every=7))
    assert [index for index, _ in sampled] == [i for i in range(start, stop) if i % 7 == 0]
    for index, frame in sampled:
        assert np.array_equal(frame, every_frame[index])


def test_still_image_is_not_a_video(reference):
    with pytest.raises(VideoError, match="still image"):
        probe(str(reference))


def test_paths_cannot_become_options_or_protocols(tmp_path):
    assert tools.input_url("-i.mp4").startswith("file:/")
    assert tools.input_url("http://x/y.mp4").startswith("file:/")


@pytest.mark.parametrize("banner, version", [
    ("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026", (5, 1)),
    ("ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright", (4, 4)),
    ("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright", (9, 0)),
    ("ffmpeg version N-112233-gdeadbeef Copyright", None),
])
def test_ffmpeg_version(banner, version):
    assert tools.ffmpeg_version(banner) == version


@pytest.mark.parametrize("method, encoding, expected", [
    (REENCODE, "veryfast", ["-preset", "veryfast", "-crf", "18"]),
    (REENCODE, "ultrafast", ["-preset", "ultrafast", "-crf", "18"]),  # --speed
    (COPY_KEYFRAME, "ultrafast", None),  # stream copy: no encoder at all
    (COPY_EXACT, "ultrafast", None),
])
def test_clip_command_encodes_with_the_presets_x264_speed(method, encoding, expected):
    job = ClipJob(source="in.mp4", destination="out/clip_1.mp4", start=Fraction(2),
                  duration=Fraction(3), has_audio=True, encoding=encoding)
    args = clip_command(job, "ffmpeg", method)
    if expected is None:
        assert "-preset" not in args and "libx264" not in args
    else:
        position = args.index("-preset")
        assert args[position:position + 2] == expected[:2]
        assert args[args.index("-crf") + 1] == expected[3]
