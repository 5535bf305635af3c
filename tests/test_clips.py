"""Frame-exact lossless clips on real media: every clip shows exactly the source frames
its segment says, checked by decoding both (a copied clip decodes to the very same
pixels), with audio in sync; where mp4 cannot carry the codec, the clip is re-encoded
and says so."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import montage as montage_builder
from checks import audio_offset, ffprobe_streams, video_frame_count
from conftest import run_cli
from montage import Part, ffmpeg

pytestmark = [pytest.mark.media, pytest.mark.slow]

# Someone else for 3 s, the target for 4 s (frames 90..209), someone else for 3 s. With
# a keyframe every 4 s (frames 0, 120, 240) the target starts and ends mid-GOP, and the
# B-frames after his last frame are where a plain stream copy runs long.
PARTS = [
    Part(("d18.mp4",), 0, 3, 30, False),
    Part((montage_builder.TARGET,), 0, 4, 30, True),
    Part(("d19.mp4",), 0, 3, 30, False),
]
ENCODINGS = {
    "h264, 4 s GOP, 3 B-frames": (
        "mp4", ["-c:v", "libx264", "-preset", "veryfast", "-g", "120", "-keyint_min", "120",
                "-sc_threshold", "0", "-bf", "3", "-c:a", "aac"]),
    "hevc 10-bit": (
        "mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                "-x265-params", "keyint=120:min-keyint=120:scenecut=0:bframes=3:log-level=error",
                "-tag:v", "hvc1", "-c:a", "aac"]),
    "vp9 and opus in webm": (
        "webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "120",
                 "-c:a", "libopus"]),
}


@pytest.fixture(scope="module")
def plain(media_dir: Path) -> montage_builder.Montage:
    return montage_builder.build(PARTS, media_dir / "clips-plain.mp4")


def encode(plain: montage_builder.Montage, folder: Path, name: str, suffix: str,
           options: list[str]) -> Path:
    path = folder / f"{name.replace(' ', '_').replace(',', '')}.{suffix}"
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-i", str(plain.path), *options,
                    str(path)], check=True)
    return path


def decoded_grey(path: Path, width: int, height: int) -> np.ndarray:
    """Every frame a player shows, decoded by ffmpeg to grey (uint8: a float copy of
    every frame of these files would be hundreds of MB)."""
    data = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0",
                           "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                          check=True, capture_output=True).stdout
    return np.frombuffer(data, np.uint8).reshape(-1, height, width)


def frame_digests(path: Path, width: int, height: int) -> list[str]:
    """md5 of every frame a player shows, decoded to grey at the source's size."""
    return [hashlib.md5(frame.tobytes()).hexdigest() for frame in decoded_grey(path, width, height)]


def run(video: Path, reference: Path, out: Path, *extra: str) -> dict:
    result = run_cli("--video", str(video), "--reference", str(reference), "--speed",
                     "--num_processes", "2", *extra, output=out)
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert len(doc["segments"]) == 1, doc["segments"]
    return doc


@pytest.mark.parametrize("name", ENCODINGS)
def test_copied_clip_shows_exactly_the_segments_frames(name, plain, reference, tmp_path):
    suffix, options = ENCODINGS[name]
    video = encode(plain, tmp_path, name, suffix, options)
    doc = run(video, reference, tmp_path / "out")
    segment = doc["segments"][0]
    first, last = segment["clip_start_frame"], segment["clip_end_frame"]
    # the target's part, found to the frame (90..209) or within one
    assert abs(first - 90) <= 1 and abs(last - 209) <= 1, (first, last)
    assert segment["clip_cut"] == "copy-exact"
    assert (segment["clip_first_frame_shown"], segment["clip_last_frame_shown"]) == (first, last)
    clip = tmp_path / "out" / segment["clip"]
    source = frame_digests(video, plain.width, plain.height)
    shown = frame_digests(clip, plain.width, plain.height)
    assert len(shown) == last - first + 1 == video_frame_count(clip)
    assert shown == source[first:last + 1]  # the same pixels, first to last
    offset = audio_offset(clip, video, segment["clip_start_time"])
    assert abs(offset) <= 1 / 30, f"audio off by {offset * 1000:.1f} ms"


# Re-encoded instead of copied: MPEG-2 (mp4 players do not take it), and AV1 (mp4
# carries it, but ffmpeg 5.1's default AV1 decoder ignores the edit list: cut.MP4_VIDEO).
NOT_COPIED = {
    "mpeg-2 in mpeg-ts": ("ts", ["-c:v", "mpeg2video", "-q:v", "3", "-g", "120", "-c:a", "mp2"]),
    "av1 (svt-av1), 4 s GOP": (
        "mp4", ["-c:v", "libsvtav1", "-preset", "12", "-g", "120", "-svtav1-params", "scd=0",
                "-c:a", "aac"]),
}


@pytest.mark.parametrize("name", NOT_COPIED)
def test_a_codec_not_copied_exactly_is_re_encoded_and_says_so(name, plain, reference, tmp_path):
    suffix, options = NOT_COPIED[name]
    video = encode(plain, tmp_path, name, suffix, options)
    doc = run(video, reference, tmp_path / "out")
    segment = doc["segments"][0]
    first, last = segment["clip_start_frame"], segment["clip_end_frame"]
    assert segment["clip_cut"] == "reencode"
    clip = tmp_path / "out" / segment["clip"]
    assert video_frame_count(clip) == last - first + 1
    assert_first_frame_is(clip, video, first, plain)


def test_reencode_and_keyframe_clips_on_request(plain, reference, tmp_path):
    suffix, options = ENCODINGS["h264, 4 s GOP, 3 B-frames"]
    video = encode(plain, tmp_path, "h264", suffix, options)
    again = run(video, reference, tmp_path / "reencode", "--clips", "reencode")
    segment = again["segments"][0]
    first, last = segment["clip_start_frame"], segment["clip_end_frame"]
    assert again["settings"]["cut"] == "reencode" and segment["clip_cut"] == "reencode"
    clip = tmp_path / "reencode" / segment["clip"]
    assert video_frame_count(clip) == last - first + 1
    assert_first_frame_is(clip, video, first, plain)
    # --copy, as before: a keyframe copy starts on frame 0, the keyframe before 90
    early = run(video, reference, tmp_path / "keyframe", "--copy")
    segment = early["segments"][0]
    assert early["settings"]["cut"] == "keyframe" and segment["clip_cut"] == "copy-keyframe"
    assert segment["clip_first_frame_shown"] == 0
    assert video_frame_count(tmp_path / "keyframe" / segment["clip"]) >= \
        segment["clip_end_frame"] + 1


def assert_first_frame_is(clip: Path, video: Path, first: int,
                          plain: montage_builder.Montage) -> None:
    """A re-encoded clip's first picture is closest to source frame `first`, not to
    either neighbour (its pixels differ a little from the source's). Source frames by
    index, decoding the whole file: seeking by time would depend on its container's
    timeline (MPEG-TS starts at 1.4 s here)."""
    head = decoded_grey(clip, plain.width, plain.height)[0].astype(np.float64)
    source = decoded_grey(video, plain.width, plain.height)
    errors = [float(np.mean((head - source[i]) ** 2)) for i in (first - 1, first, first + 1)]
    assert int(np.argmin(errors)) == 1, errors


SUPERCUT_PARTS = [
    Part(("d18.mp4",), 0, 1, 30, False),
    Part((montage_builder.TARGET,), 10, 2, 30, True),  # frames 30..89
    Part(("d20.mp4",), 0, 1, 25, False),
    Part((montage_builder.TARGET,), 14, 2, 25, True),  # frames 115..164, at 25 fps
    Part(("d19.mp4",), 0, 1, 30, False),
]


def test_supercut_has_every_appearance_once_with_its_sound(reference, media_dir, tmp_path):
    """Two appearances, at 30 and at 25 fps: the supercut shows each range's frames once,
    in order (each join checked against the source's frames on both sides), and its
    sound is the source's at the first and at the last join."""
    source = montage_builder.build(SUPERCUT_PARTS, media_dir / "supercut-source.mp4")
    doc = run_supercut(source, reference, tmp_path / "out")
    ranges = [tuple(pair) for pair in doc["supercut"]["ranges"]]
    assert ranges == [(s["clip_start_frame"], s["clip_end_frame"]) for s in doc["segments"]]
    assert [(abs(a - b) <= 1, abs(c - d) <= 1) for (a, c), (b, d) in
            zip(ranges, source.target_segments(), strict=True)] == [(True, True)] * 2
    supercut = tmp_path / "out" / "supercut.mp4"
    frames = sum(last - first + 1 for first, last in ranges)
    assert doc["supercut"]["frames"] == frames == video_frame_count(supercut)
    shown = decoded_grey(supercut, source.width, source.height)
    original = decoded_grey(source.path, source.width, source.height)
    position = 0
    for first, last in ranges:
        for at, frame in ((position, first), (position + last - first, last)):
            here = shown[at].astype(np.float64)
            errors = [float(np.mean((here - original[i]) ** 2))
                      for i in (frame - 1, frame, frame + 1)]
            assert int(np.argmin(errors)) == 1, (at, frame, errors)
        position += last - first + 1
    # sound: at the start of the first range and of the last one
    into = 0.0
    starts = []
    for segment in doc["segments"]:
        starts.append((into, segment["clip_start_time"]))
        into += segment["clip_end_time"] - segment["clip_start_time"]
    for clip_from, source_time in (starts[0], starts[-1]):
        offset = audio_offset(supercut, source.path, source_time, probe_seconds=1.5,
                              clip_from=clip_from)
        assert abs(offset) <= 1 / 25, f"audio off by {offset * 1000:.1f} ms at {clip_from} s"


def run_supercut(source: montage_builder.Montage, reference: Path, out: Path) -> dict:
    result = run_cli("--video", str(source.path), "--reference", str(reference), "--supercut",
                     "--num_processes", "2", output=out)
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert len(doc["segments"]) == 2, doc["segments"]
    assert doc["supercut"]["file"] == "supercut.mp4", doc["supercut"]
    return doc


def test_batch_supercut_joins_each_videos_supercut(short_montage, reference, tmp_path):
    """Two videos, of different sizes, one without sound: each results folder has its
    supercut, and the batch's folder one of both, in input order: their frames, each
    in the first video's frame size, with sound (silence for the silent one). A
    second run without --overwrite is refused before anything is scanned."""
    folder = tmp_path / "in"
    folder.mkdir()
    first = folder / "a.mp4"
    first.write_bytes(short_montage.path.read_bytes())
    second = folder / "b.mp4"  # the target alone, 512x480, no sound
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-ss", "2", "-t", "3", "-i",
                    str(montage_builder.CLIPS / montage_builder.TARGET), "-an", "-c:v",
                    "libx264", "-preset", "veryfast", str(second)], check=True)
    out = tmp_path / "out"
    args = ("--video", str(first), str(second), "--reference", str(reference), "--speed",
            "--supercut", "--json")
    result = run_cli(*args, output=out)
    assert result.code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in records] == ["found", "found", "supercut"], records
    each = [json.loads((out / name / "metadata.json").read_text())["supercut"]["frames"]
            for name in ("a", "b")]
    batch = out / "supercut.mp4"
    assert records[-1]["output"] == str(batch) and records[-1]["videos"] == 2
    assert video_frame_count(batch) == sum(each) and all(frames > 30 for frames in each)
    streams = ffprobe_streams(batch)
    video = next(s for s in streams if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (short_montage.width, short_montage.height)
    assert [s["codec_type"] for s in streams].count("audio") == 1
    again = run_cli(*args, output=out)
    assert again.code == 2 and "supercut.mp4: already exists" in again.stderr, again.stderr
    assert not again.stdout.strip()  # refused before any video ran
