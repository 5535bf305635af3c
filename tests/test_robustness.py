"""Hostile inputs and faults. Every input is generated here from ../shared/media with
ffmpeg or Pillow, and the real CLI runs on it. Each case checks the exit code, a
one-line error naming the file and the problem (no traceback), bounded time, no
staging or half-written file left, and earlier results left untouched."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import montage as montage_builder
from checks import audio_offset, audio_streams, ffprobe_streams, video_frame_count
from conftest import ROOT, CliResult, peak_rss_mib, run_cli
from facecut.output import FolderLock
from procfs import (children, describe_processes, is_ffmpeg, left_in_group, pool_workers,
                    processes_in_group)

pytestmark = [pytest.mark.media]
FFMPEG = montage_builder.ffmpeg()
CLIPS = montage_builder.CLIPS


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


def one_line_error(result: CliResult) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    return lines[-1]


def earlier_results(folder: Path) -> dict[str, str]:
    """Plant the results of an 'earlier run' and return their checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.json").write_text(json.dumps({"schema_version": 1, "earlier": True}))
    (folder / "clip_1.mp4").write_bytes(b"earlier clip " * 1000)
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def assert_clean(folder: Path) -> None:
    if folder.exists():
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".facecut-partial-")]
        assert leftovers == [], f"staging left behind: {leftovers}"


# ----------------------------------------------------------------- bad videos

def _text(d: Path) -> Path:
    (d / "notes.mp4").write_text("hello, this is not a video\n")
    return d / "notes.mp4"


def _empty(d: Path) -> Path:
    (d / "empty.mp4").write_bytes(b"")
    return d / "empty.mp4"


def _audio_only(d: Path) -> Path:
    ffmpeg("-i", str(CLIPS / "d18.mp4"), "-vn", "-c:a", "copy", str(d / "voice.m4a"))
    return d / "voice.m4a"


def _truncated_moov_at_end(d: Path) -> Path:
    # a camera-style mp4 (index written last) cut in half: nothing can be decoded
    ffmpeg("-i", str(CLIPS / "d18.mp4"), "-c", "copy", str(d / "whole.mp4"))
    data = (d / "whole.mp4").read_bytes()
    (d / "half.mp4").write_bytes(data[: len(data) // 2])
    return d / "half.mp4"


def _photo(d: Path) -> Path:
    ffmpeg("-ss", "1", "-i", str(CLIPS / "d18.mp4"), "-frames:v", "1", str(d / "still.jpg"))
    return d / "still.jpg"


# A single video is probed before the CLI starts its worker pool, so each of these
# fails in well under a second (0.3-0.7 s measured): fast tier.
@pytest.mark.parametrize("make, problem", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: d, "folder has no video files"),  # a folder stands for its videos
    (_text, "not a readable video"),
    (_empty, "empty"),
    (_audio_only, "no video stream (audio only)"),
    (_truncated_moov_at_end, "not a readable video"),
    (_photo, "still image"),
], ids=["missing", "directory", "text", "zero-byte", "audio-only", "truncated-no-index", "photo"])
def test_bad_video(make, problem, reference, tmp_path):
    source_dir = tmp_path / "in"
    source_dir.mkdir()
    video = make(source_dir)
    out = tmp_path / "out"
    before = earlier_results(out)
    started = time.monotonic()
    result = run_cli("--video", str(video), "--reference", str(reference), "--overwrite",
                     output=out, timeout=60)
    assert result.code == 2
    line = one_line_error(result)
    assert problem in line and str(video) in line, line
    assert time.monotonic() - started < 60
    assert snapshot(out) == before
    assert_clean(out)


def test_bad_single_video_with_json_prints_its_error_record(reference, tmp_path):
    """The single video is probed before the run starts; with --json its failure is
    still one JSON record on stdout (scripts read stdout only) and one line on stderr."""
    video = tmp_path / "empty.mp4"
    video.write_bytes(b"")
    result = run_cli("--video", str(video), "--reference", str(reference), "--json",
                     output=tmp_path / "out", timeout=60)
    assert result.code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["video"], r["status"], r["segments"]) for r in records] == [(str(video), "error", 0)]
    assert "empty" in records[0]["error"]
    assert "empty" in one_line_error(result)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------- awkward but valid videos

@pytest.fixture(scope="module")
def target_second(media_dir) -> Path:
    """One second of the target, for reference-photo cases."""
    path = media_dir / "target_1s.mp4"
    if not path.exists():
        ffmpeg("-ss", "10", "-i", str(CLIPS / montage_builder.TARGET), "-t", "1",
               "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(path))
    return path


@pytest.mark.slow
def test_truncated_video_processes_what_decodes(short_montage, reference, tmp_path):
    # moov in front (faststart), so the index survives and the first half decodes
    data = short_montage.path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.55)])
    # every frame analysed, so frames_decoded counts decoded frames exactly (a sampled
    # pass counts `interval` frames per sample it got)
    result = run_cli("--video", str(cut), "--reference", str(reference), "--interval", "1",
                     output=tmp_path / "out")
    assert result.code == 0, result.stderr
    assert "could not be decoded" in result.stderr and str(cut) in result.stderr, result.stderr
    doc = result.metadata
    decoded = doc["stats"]["frames_decoded"]
    assert 0 < decoded < short_montage.frame_count
    first, last = short_montage.target_segments()[0]
    # 55% of the bytes hold more than the first 1.5 s: the target's start decodes
    assert decoded > first + 15, decoded
    [segment] = doc["segments"]
    assert abs(segment["start_frame"] - first) <= 1, segment
    assert segment["end_frame"] < min(decoded, last + 1), (segment, decoded)
    [clip] = result.clips()
    assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1


@pytest.mark.slow
def test_two_audio_streams_both_kept(short_montage, reference, tmp_path):
    video = tmp_path / "two_audio.mkv"
    ffmpeg("-i", str(short_montage.path), "-i", str(CLIPS / "d19.mp4"), "-map", "0:v", "-map",
           "0:a", "-map", "1:a", "-c", "copy", "-shortest", str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), output=tmp_path / "o")
    assert result.code == 0, result.stderr
    assert result.metadata["video"]["audio_streams"] == 2
    [clip] = result.clips()  # the target's one appearance
    assert audio_streams(clip) == 2


@pytest.mark.slow
def test_stream_starting_late_keeps_audio_in_sync(short_montage, reference, tmp_path):
    video = tmp_path / "late.ts"  # MPEG-TS starts its clock at 1.4 s
    ffmpeg("-i", str(short_montage.path), "-c:v", "copy", "-c:a", "copy", "-f", "mpegts",
           str(video))
    probed = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                                        "-show_entries", "format=start_time:stream=start_time",
                                        "-of", "json", str(video)],
                                       capture_output=True, text=True, check=True).stdout)
    file_start = float(probed["format"]["start_time"])
    assert file_start > 1.0
    # times are from the file's start; the video itself may begin a little later
    video_start = float(probed["streams"][0]["start_time"]) - file_start
    result = run_cli("--video", str(video), "--reference", str(reference), output=tmp_path / "o")
    assert result.code == 0, result.stderr
    [segment] = result.metadata["segments"]
    first, last = short_montage.target_segments()[0]
    assert abs(segment["start_frame"] - first) <= 2 and abs(segment["end_frame"] - last) <= 2
    assert segment["start_time"] == pytest.approx(video_start + segment["start_frame"] / 30,
                                                  abs=0.001)
    [clip] = result.clips()
    assert abs(audio_offset(clip, video, segment["start_time"])) <= 1 / 30


@pytest.mark.slow
def test_rotated_phone_video(short_montage, reference, tmp_path):
    # stored sideways with a 90-degree display matrix, as phones record portrait video
    sideways = tmp_path / "sideways.mp4"
    ffmpeg("-i", str(short_montage.path), "-vf", "transpose=1", "-c:v", "libx264", "-preset",
           "veryfast", "-c:a", "copy", str(sideways))
    video = tmp_path / "phone.mp4"
    ffmpeg("-display_rotation", "-90", "-i", str(sideways), "-c", "copy", str(video)) \
        if _ffmpeg_has_display_rotation() else \
        ffmpeg("-i", str(sideways), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), output=tmp_path / "o")
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["video"]["rotation"] in (90, 270)
    assert (doc["video"]["width"], doc["video"]["height"]) == (640, 360)  # as displayed
    [segment] = doc["segments"]
    assert len(segment["detections"]) > 30, segment  # 2 s of the target, every frame analysed
    for detection in segment["detections"]:
        box = detection["box"]
        assert box["x"] + box["w"] <= 640 and box["y"] + box["h"] <= 360
    # the lossless clip keeps the source's sideways picture and its display matrix, so
    # players show it upright, as the source
    [clip] = result.clips()
    assert segment["clip_cut"] == "copy-exact"
    stream = [s for s in ffprobe_streams(clip) if s["codec_type"] == "video"][0]
    rotation = next((int(float(side.get("rotation", 0))) for side in
                     stream.get("side_data_list", []) if "rotation" in side), 0)
    assert rotation % 180 == 90 and (stream["width"], stream["height"]) == (360, 640)


def _ffmpeg_has_display_rotation() -> bool:
    out = subprocess.run([FFMPEG, "-hide_banner", "-h", "full"], capture_output=True, text=True).stdout
    return "-display_rotation" in out


@pytest.mark.slow
def test_ntsc_rate_over_minutes_has_no_drift(reference, tmp_path):
    # 3 minutes of an empty room, then the target, all at 30000/1001 fps
    video = tmp_path / "ntsc.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x404040:s=480x480:r=30000/1001:d=180",
           "-f", "lavfi", "-i", "anoisesrc=d=180:c=pink:r=44100:a=0.02",
           "-ss", "10", "-t", "3", "-i", str(CLIPS / montage_builder.TARGET),
           "-filter_complex",
           "[2:v]fps=30000/1001,scale=480:480,setsar=1[t];[0:v][1:a][t][2:a]concat=n=2:v=1:a=1[v][a]",
           "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-r", "30000/1001", str(video))
    first_target = 5395  # round(180 * 30000/1001) frames of the empty room
    result = run_cli("--video", str(video), "--reference", str(reference), "--interval", "5",
                     "--speed", output=tmp_path / "o")
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["video"]["fps_rational"] == "30000/1001"
    [segment] = doc["segments"]
    assert abs(segment["start_frame"] - first_target) <= 5
    exact = segment["start_frame"] * 1001 / 30000
    assert segment["start_time"] == pytest.approx(exact, abs=1e-6)
    assert segment["end_time"] == pytest.approx((segment["end_frame"] + 1) * 1001 / 30000, abs=1e-6)
    [clip] = result.clips()
    assert abs(audio_offset(clip, video, segment["start_time"])) <= 1001 / 30000


@pytest.mark.slow
@pytest.mark.parametrize("frames", [1, 3])
def test_tiny_videos(frames, reference, tmp_path):
    video = tmp_path / f"{frames}f.mp4"
    ffmpeg("-ss", "10", "-i", str(CLIPS / montage_builder.TARGET), "-frames:v", str(frames),
           "-c:v", "libx264", "-an", str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), "--num_processes", "4",
                     output=tmp_path / "o")
    assert result.code == 0, result.stderr
    [segment] = result.metadata["segments"]
    assert (segment["start_frame"], segment["end_frame"]) == (0, frames - 1)
    [clip] = result.clips()
    assert video_frame_count(clip) == frames


@pytest.mark.slow
def test_4k_input_memory_is_bounded(short_montage, reference, tmp_path):
    video = tmp_path / "uhd.mp4"
    ffmpeg("-i", str(short_montage.path), "-vf", "scale=3840:2160", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "copy", str(video))
    started = time.monotonic()
    process, peak = peak_rss_mib([sys.executable, str(ROOT / "video_inference.py"), "--video",
                                  str(video), "--reference", str(reference), "--quiet",
                                  "--output", str(tmp_path / "o")],
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    doc = json.loads((tmp_path / "o" / "metadata.json").read_text())
    print(f"\n4K: {doc['stats']['frames_analysed']} frames in {wall:.1f} s "
          f"({doc['stats']['frames_per_second']} analysed frames/s), peak RSS {peak:.0f} MiB")
    assert process.returncode == 0, process.stderr
    assert peak < 2048
    [segment] = doc["segments"]
    assert segment["detections"][0]["box"]["w"] > 300  # boxes in 4K pixels


@pytest.mark.slow
def test_awkward_file_names(short_montage, reference, tmp_path):
    name = "-v 'quoted' \"double\" ünïcødé spaced.mp4"
    folder = tmp_path / "in put"
    folder.mkdir()
    video = folder / name
    shutil.copy(short_montage.path, video)
    photo = folder / "-ref ü 'x'.png"
    shutil.copy(reference, photo)
    out = tmp_path / "out -y ü"
    result = run_cli(f"--video={video}", f"--reference={photo}", output=out)
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["video"]["path"] == str(video)
    assert [r["path"] for r in doc["references"]] == [str(photo)]
    assert len(result.clips()) == 1


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path):
    path = tmp_path / "ro"
    if _mount_tmpfs(path, "ro,size=1m"):
        yield path
        subprocess.run(["umount", str(path)], check=False)
    elif os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
    else:
        pytest.skip("cannot make a read-only folder here (root without mount)")


@pytest.fixture
def full_disk(tmp_path):
    path = tmp_path / "full"
    if not _mount_tmpfs(path, "size=40k"):
        pytest.skip("needs root and mount to make a tiny filesystem")
    yield path
    subprocess.run(["umount", str(path)], check=False)


@pytest.mark.slow  # the workers load the models and embed the photo first
def test_read_only_output_folder(read_only_dir, reference, target_second):
    out = read_only_dir / "results"
    result = run_cli("--video", str(target_second), "--reference", str(reference), output=out,
                     timeout=60)
    assert result.code == 2
    line = one_line_error(result)
    assert str(out) in line and "cannot write" in line
    assert not out.exists()


@pytest.mark.slow
def test_full_disk(full_disk, reference, short_montage):
    out = full_disk / "results"
    result = run_cli("--video", str(short_montage.path), "--reference", str(reference),
                     output=out, timeout=300)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "No space left" in result.stderr
    assert_clean(out)
    for clip in out.glob("clip_*.mp4") if out.exists() else []:
        assert video_frame_count(clip) > 0  # anything kept is whole


# ----------------------------------------------------------------- reference photos

def _pillow():
    # Pillow is a test requirement (pyproject.toml's `test` extra): missing, these
    # tests fail rather than skip
    from PIL import Image

    return Image


def _ref_alpha(src: Path, out: Path) -> Path:
    image = _pillow().open(src).convert("RGBA")
    image.putalpha(200)
    image.save(out.with_suffix(".png"))
    return out.with_suffix(".png")


def _ref_grey(src: Path, out: Path) -> Path:
    _pillow().open(src).convert("L").save(out.with_suffix(".jpg"))
    return out.with_suffix(".jpg")


def _ref_cmyk(src: Path, out: Path) -> Path:
    _pillow().open(src).convert("CMYK").save(out.with_suffix(".jpg"))
    return out.with_suffix(".jpg")


def _ref_exif(src: Path, out: Path) -> Path:
    Image = _pillow()
    image = Image.open(src).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display (a phone held upright)
    image.save(out.with_suffix(".jpg"), exif=exif)
    return out.with_suffix(".jpg")


@pytest.mark.slow
@pytest.mark.parametrize("make", [_ref_alpha, _ref_grey, _ref_cmyk, _ref_exif],
                         ids=["png-alpha", "greyscale", "cmyk-jpeg", "exif-portrait"])
def test_unusual_reference_photos_work(make, reference, target_second, tmp_path):
    photo = make(reference, tmp_path / "ref")
    result = run_cli("--video", str(target_second), "--reference", str(photo),
                     output=tmp_path / "o")
    assert result.code == 0, result.stderr
    assert len(result.metadata["segments"]) == 1


def _ref_tiny(src: Path, out: Path) -> Path:
    image = _pillow().open(src)
    image.resize((24, 24)).save(out.with_suffix(".png"))
    return out.with_suffix(".png")


def _ref_corrupt(src: Path, out: Path) -> Path:
    data = src.read_bytes()
    out.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(np.random.default_rng(1)
                                                                 .integers(0, 256, 5000, dtype=np.uint8)))
    del data
    return out.with_suffix(".jpg")


@pytest.mark.slow  # the workers load the models to embed (or read) the photo
@pytest.mark.parametrize("make, problem", [(_ref_tiny, "no face found"),
                                           (_ref_corrupt, "not a readable image")],
                         ids=["face-too-small", "corrupt"])
def test_unusable_reference_photos(make, problem, reference, target_second, tmp_path):
    photo = make(reference, tmp_path / "ref")
    out = tmp_path / "o"
    before = earlier_results(out)
    result = run_cli("--video", str(target_second), "--reference", str(photo), "--overwrite",
                     output=out, timeout=120)
    assert result.code == 2
    line = one_line_error(result)
    assert problem in line and str(photo) in line
    assert snapshot(out) == before
    assert_clean(out)


@pytest.mark.slow
def test_three_faces_uses_the_largest_and_lists_the_others(target_second, tmp_path):
    Image = _pillow()
    frames = {}
    for name, at in (("d9", 18.5), ("d18", 5.0), ("d19", 5.0)):
        path = tmp_path / f"{name}.png"
        ffmpeg("-ss", str(at), "-i", str(CLIPS / f"{name}.mp4"), "-frames:v", "1", str(path))
        frames[name] = Image.open(path).convert("RGB")
    group = Image.new("RGB", (1100, 520), (90, 90, 90))
    group.paste(frames["d9"].resize((500, 470)), (10, 20))      # the target, largest
    group.paste(frames["d18"].resize((300, 300)), (530, 100))
    group.paste(frames["d19"].resize((260, 260)), (835, 130))
    photo = tmp_path / "group.jpg"
    group.save(photo)
    result = run_cli("--video", str(target_second), "--reference", str(photo),
                     output=tmp_path / "o")
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "3 faces" in line]
    assert warning, result.stderr
    assert "using the largest" in warning[0] and warning[0].count("x") >= 3
    assert result.metadata["references"][0]["faces_found"] == 3


# ----------------------------------------------------------------- faults while running

@pytest.mark.slow
def test_worker_killed_fails_clearly(montage, reference, tmp_path):
    """SIGKILL one pool worker in the middle of its chunk: exit 2 with one line saying a
    worker died, earlier results untouched, nothing left running. The victim is a
    real pool worker (procfs.pool_workers: a direct child running spawn's worker
    command, never the resource tracker) that is decoding its chunk (its ffmpeg
    decoder is running)."""
    out = tmp_path / "out"
    before = earlier_results(out)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
         "--reference", str(reference), "--output", str(out), "--overwrite", "--quiet",
         "--num_processes", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    workers: list[int] = []
    victim = None
    while time.monotonic() < deadline and victim is None and process.poll() is None:
        workers = pool_workers(process.pid)
        scanning = [pid for pid in workers if any(is_ffmpeg(child) for child in children(pid))]
        if scanning:
            victim = scanning[0]
        else:
            time.sleep(0.2)
    assert victim is not None, f"no pool worker seen decoding; running: " \
        f"{describe_processes(processes_in_group(process.pid))}"
    assert len(workers) == 2, describe_processes(workers)  # --num_processes 2, nothing else
    time.sleep(1)  # well into the chunk, frames flowing
    os.kill(victim, signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert "worker died" in last and "killed" in last, stderr
    assert snapshot(out) == before
    assert_clean(out)
    left = left_in_group(process.pid)
    assert left == [], describe_processes(left)


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_cutting(short_montage, reference, tmp_path, signum, code):
    video = tmp_path / "uhd.mp4"
    ffmpeg("-i", str(short_montage.path), "-vf", "scale=3840:2160", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "copy", str(video))
    out = tmp_path / "out"
    before = earlier_results(out)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(video), "--reference",
         str(reference), "--output", str(out), "--overwrite", "--quiet", "--interval", "30",
         # a re-encoded 4K clip takes seconds to cut, time to send the signal meanwhile
         # (a stream copy, the default, is done in a fraction of a second)
         "--padding", "10", "--clips", "reencode"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    cutting = False
    while time.monotonic() < deadline and not cutting and process.poll() is None:
        for pid in processes_in_group(process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_text()
            except OSError:
                continue
            cutting = cutting or ("libx264" in cmdline and "clip_1.mp4" in cmdline)
        time.sleep(0.1)
    assert cutting, "never saw the clip being cut"
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert time.monotonic() - sent < 5
    assert "Traceback" not in stderr
    left = left_in_group(process.pid)
    assert left == [], describe_processes(left)
    assert snapshot(out) == before
    assert_clean(out)


@pytest.fixture(scope="module")
def twice_montage(media_dir) -> montage_builder.Montage:
    parts = [
        montage_builder.Part(("d18.mp4",), 0, 1, 30, False),
        montage_builder.Part((montage_builder.TARGET,), 10, 1, 30, True),
        montage_builder.Part(("d18.mp4",), 1, 1, 30, False),
        montage_builder.Part((montage_builder.TARGET,), 12, 1, 30, True),
        montage_builder.Part(("d18.mp4",), 2, 1, 30, False),
    ]
    return montage_builder.build(parts, media_dir / "twice.mp4")


@pytest.mark.slow
def test_one_clip_failing_keeps_the_others(twice_montage, reference, tmp_path):
    out = tmp_path / "out"
    process = subprocess.run(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(twice_montage.path),
         "--reference", str(reference), "--output", str(out), "--quiet"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "FACECUT_FAULT_CLIP": "2"})
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    doc = json.loads((out / "metadata.json").read_text())
    assert len(doc["segments"]) == 2
    assert doc["segments"][0]["clip"] == "clip_1.mp4" and "error" not in doc["segments"][0]
    assert doc["segments"][1]["clip"] is None and "clip_2.mp4" in doc["segments"][1]["error"]
    assert doc["summary"]["clips_failed"] == 1
    assert sorted(p.name for p in out.iterdir() if p.name != ".facecut-cache") == [
        "clip_1.mp4", "index.html", "metadata.json", "segments.csv", "segments.edl",
        "segments.fcpxml", "segments.otio", "segments.xml", "thumb_1.jpg", "thumb_2.jpg",
        "timeline.png"]
    assert "clip_2.mp4" in process.stderr


# ----------------------------------------------------------------- found in review

def test_overwrite_only_touches_our_own_files(tmp_path):
    from facecut.errors import OutputError
    from facecut.output import ResultsFolder, existing_results

    (tmp_path / "clip_intro.mp4").write_bytes(b"user's file")
    (tmp_path / "clip_1.mp4").write_bytes(b"the input video, named like a clip")
    (tmp_path / "clip_2.mp4").write_bytes(b"an old clip")
    (tmp_path / "metadata.json").write_text("{}")
    protect = (tmp_path / "clip_1.mp4",)
    assert [p.name for p in existing_results(tmp_path, protect)] == ["clip_2.mp4", "metadata.json"]
    # an input named like a result in the output folder: refuse rather than overwrite it
    with pytest.raises(OutputError, match="named like a result"):
        ResultsFolder(tmp_path, overwrite=True, protect=protect).open()
    (tmp_path / "clip_1.mp4").rename(tmp_path / "talk.mp4")
    results = ResultsFolder(tmp_path, overwrite=True, protect=(tmp_path / "talk.mp4",))
    staging = results.open()
    (staging / "clip_1.mp4").write_bytes(b"new")
    (staging / "metadata.json").write_text('{"new": true}')
    results.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "clip_1.mp4", "clip_intro.mp4", "metadata.json", "talk.mp4"]
    assert (tmp_path / "talk.mp4").read_bytes() == b"the input video, named like a clip"
    assert json.loads((tmp_path / "metadata.json").read_text()) == {"new": True}


@pytest.mark.slow
def test_long_gop_transport_stream_is_cut_exactly(short_montage, reference, tmp_path):
    """MPEG-TS has no seek index: a clip must still start on its first frame even
    when the keyframe before it is seconds earlier, and frames must keep their
    indices in every chunk."""
    video = tmp_path / "long_gop.ts"
    ffmpeg("-i", str(short_montage.path), "-c:v", "libx264", "-preset", "veryfast", "-g", "120",
           "-keyint_min", "120", "-sc_threshold", "0", "-c:a", "aac", "-f", "mpegts", str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), output=tmp_path / "o")
    assert result.code == 0, result.stderr
    assert "could not be decoded" not in result.stderr
    [segment] = result.metadata["segments"]
    first, last = short_montage.target_segments()[0]
    assert abs(segment["start_frame"] - first) <= 2 and abs(segment["end_frame"] - last) <= 2
    [clip] = result.clips()
    assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1
    assert abs(audio_offset(clip, video, segment["start_time"])) <= 1 / 30


@pytest.mark.slow
def test_edit_list_trim_is_not_reported_as_damage(reference, tmp_path):
    # a stream-copied trim keeps packets the edit list hides: not missing frames
    video = tmp_path / "trimmed.mp4"
    ffmpeg("-ss", "8.2", "-i", str(CLIPS / montage_builder.TARGET), "-t", "3", "-c", "copy",
           str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), "--speed",
                     output=tmp_path / "o")
    assert result.code == 0, result.stderr
    assert "could not be decoded" not in result.stderr


@pytest.mark.slow
def test_copy_mode_with_pcm_audio(short_montage, reference, tmp_path):
    video = tmp_path / "camera.mov"
    ffmpeg("-i", str(short_montage.path), "-c:v", "copy", "-c:a", "pcm_s16le", str(video))
    result = run_cli("--video", str(video), "--reference", str(reference), "--copy",
                     output=tmp_path / "o")
    assert result.code == 0, result.stderr
    [clip] = result.clips()
    assert audio_streams(clip) == 1


@pytest.mark.slow
def test_a_run_into_a_folder_another_run_is_writing_is_refused_before_it_scans(
        montage, reference, tmp_path):
    """Two runs into the same results folder (xargs -P over videos sharing a name):
    the second learns it before decoding a frame, says which run holds the folder, and
    leaves it alone; the first finishes as if alone. (The first runs dlib's HOG on
    every frame, ~15 s here, so it is surely still writing when the second looks.)"""
    out = tmp_path / "Results" / "montage"
    first = subprocess.Popen(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
         "--reference", str(reference), "--detector", "dlib", "--interval", "1", "--quiet",
         "--output", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while not (out / ".facecut-lock").exists() and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.1)
        second = run_cli("--video", str(montage.path), "--reference", str(reference),
                         "--debug", output=out)
        assert first.poll() is None, "the first run ended before the second looked"
    finally:
        stdout, stderr = first.communicate(timeout=600)
    assert second.code == 2
    # (--debug adds the traceback above the error line)
    line = second.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), second.stderr
    assert f"{out}: another facecut run is writing results here (pid {first.pid}" in line
    assert "choose another --output" in line
    # it never started a decoder: every ffmpeg command is logged under --debug
    assert "-f rawvideo" not in second.stderr and "showinfo" not in second.stderr
    assert first.returncode == 0, stderr
    assert json.loads((out / "metadata.json").read_text())["segments"]
    assert not (out / ".facecut-lock").exists()
    assert not list(out.glob(".facecut-partial-*"))


def _held_by_another_run(folder: Path) -> FolderLock:
    lock = FolderLock(folder)
    folder.mkdir(parents=True)
    lock.acquire()
    return lock


def _holding_results(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text("{}\n")


@pytest.mark.parametrize("prepare, problem", [
    (_held_by_another_run, f"another facecut run is writing results here (pid {os.getpid()}"),
    (_holding_results, "already holds results (metadata.json, 0 clip(s)); pass --overwrite"),
], ids=["locked", "earlier-results"])
def test_a_taken_results_folder_is_refused_before_the_workers_start(
        prepare, problem, target_second, reference, tmp_path):
    """A single video's results folder is locked before the worker pool starts and the
    photos are embedded: a run whose folder another run holds, or that holds results,
    is refused at once (with 4 runs started together by xargs -P 4, the refused ones
    spent ~6 s loading models first). --debug logs the pool's start: it never comes."""
    out = tmp_path / "Results" / "clip"
    held = prepare(out)
    try:
        result = run_cli("--video", str(target_second), "--reference", str(reference),
                         "--debug", "--json", output=out, timeout=60)
    finally:
        if held is not None:
            held.release()
    assert result.code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {out}: ") and problem in line, result.stderr
    assert "worker process(es)" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["status"] == "error"
