"""The scan cache: re-cut without re-scanning, and resume a stopped scan."""
from __future__ import annotations

import json
from dataclasses import replace
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, run_cli
from facecut.analysis import ChunkResult
from facecut.cache import CACHE_DIR, decode, encode
from facecut.planning import Chunk, Focus
from facecut.segments import Box, Face, FrameFaces

pytestmark = [pytest.mark.media]


def test_cache_entries_round_trip():
    result = ChunkResult(
        Chunk(1, 30, 61, 5, refine=False),
        (FrameFaces(30, (Face(Box(1, 2, 3, 4), 0.9, (0.41, 0.7), 1_000_000),
                         Face(Box(5, 6, 7, 8), 1.5, None, 1_000_001))),
         FrameFaces(35, ())),
        31, {1_000_000: (np.arange(3.0), np.arange(3.0) / 7)}, frozenset({35}))
    back = decode(json.loads(json.dumps(encode(result))))
    assert back.chunk == result.chunk and back.frames == result.frames
    assert back.frames_decoded == 31 and back.partial == result.partial
    assert np.array_equal(back.track_ends[1_000_000][1], result.track_ends[1_000_000][1])
    # a refinement chunk keeps where it looked
    focused = Chunk(0, 90, 99, 1, refine=True, focus=Focus(10, 20, 300, 200, 24))
    assert decode(json.loads(json.dumps(encode(replace(result, chunk=focused))))).chunk == focused


def _segments(doc: dict) -> list[tuple[int, int]]:
    return [(s["start_frame"], s["end_frame"]) for s in doc["segments"]]


@pytest.mark.slow
def test_recut_and_resume_from_the_cache(short_montage, reference, tmp_path):
    out = tmp_path / "out"
    args = ("--video", str(short_montage.path), "--reference", str(reference),
            "--num_processes", "2")
    started = time.monotonic()
    first = run_cli(*args, output=out)
    first_wall = time.monotonic() - started
    assert first.code == 0, first.stderr
    assert len(_segments(first.metadata)) == len(short_montage.target_segments()) == 1
    assert first.metadata["stats"]["chunks_from_cache"] == 0
    entries = sorted(p.name for p in next((out / CACHE_DIR).iterdir()).iterdir())
    assert entries[0].startswith("chunk-") and "plan.json" in entries

    # only segmenting and cutting settings change: nothing is scanned again
    started = time.monotonic()
    again = run_cli(*args, "--threshold", "0.45", "--padding", "0.2", "--min-gap", "0.2",
                    "--overwrite", output=out)
    again_wall = time.monotonic() - started
    assert again.code == 0, again.stderr
    assert "scan read from the cache" in again.stderr and "no frame scanned" in again.stderr
    stats = again.metadata["stats"]
    stored = len(list(next((out / CACHE_DIR).iterdir()).glob("*-*.json")))  # scan + refine
    assert stats["chunks_from_cache"] == stored >= 2
    assert stats["frames_analysed"] == first.metadata["stats"]["frames_analysed"]
    assert again.metadata["settings"]["threshold"] == 0.45
    assert again.metadata["segments"][0]["clip_start_frame"] < again.metadata["segments"][0]["start_frame"]
    print(f"\nfirst run {first_wall:.1f} s, re-cut from the cache {again_wall:.1f} s")

    # a scan that stopped after one chunk: the other chunk is scanned, the rest read
    cache_entry = next((out / CACHE_DIR).iterdir())
    chunk_files = sorted(cache_entry.glob("chunk-*.json"))
    chunk_files[-1].unlink()
    resumed = run_cli(*args, "--overwrite", output=out)
    assert resumed.code == 0, resumed.stderr
    assert f"{stored - 1} of {stored} scan chunks read from the cache (resumed)" in resumed.stderr
    assert _segments(resumed.metadata) == _segments(first.metadata)
    assert [d["distance"] for d in resumed.metadata["segments"][0]["detections"]] == \
        [d["distance"] for d in first.metadata["segments"][0]["detections"]]

    # --no-cache scans everything again
    fresh = run_cli(*args, "--overwrite", "--no-cache", output=out)
    assert fresh.code == 0, fresh.stderr
    assert fresh.metadata["stats"]["chunks_from_cache"] == 0
    assert _segments(fresh.metadata) == _segments(first.metadata)


@pytest.mark.slow
def test_interrupted_scan_resumes(montage, reference, tmp_path):
    """Ctrl-C once the first chunk is in the cache: the rerun reads it and scans
    only what is left, and gives what an uninterrupted run gives."""
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
               "--reference", str(reference), "--num_processes", "2", "--quiet",
               "--output", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 600
    while not list(out.glob(f"{CACHE_DIR}/*/chunk-*.json")) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode in (130, 0), stderr
    assert not (out / "metadata.json").exists() or process.returncode == 0
    resumed = run_cli("--video", str(montage.path), "--reference", str(reference),
                      "--num_processes", "2", "--overwrite", output=out)
    assert resumed.code == 0, resumed.stderr
    assert resumed.metadata["stats"]["chunks_from_cache"] >= 1
    assert "read from the cache" in resumed.stderr
    reference_run = run_cli("--video", str(montage.path), "--reference", str(reference),
                            "--num_processes", "2", "--no-cache", output=tmp_path / "plain")
    assert reference_run.code == 0, reference_run.stderr
    # both found every appearance, or two empty lists would compare equal
    assert len(_segments(reference_run.metadata)) == len(montage.target_segments())
    assert _segments(resumed.metadata) == _segments(reference_run.metadata)


@pytest.mark.slow
def test_calibrate_suggests_a_threshold_and_the_run_after_it_is_read_from_the_cache(
        short_montage, reference, tmp_path):
    """Someone else and the target: --calibrate prints the distances as a histogram and
    a clear split between the two people, writes no results, and the run that uses
    the suggestion reads the scan from the cache and finds the target."""
    out = tmp_path / "out"
    args = ("--video", str(short_montage.path), "--reference", str(reference))
    calibrated = run_cli(*args, "--calibrate", output=out)
    assert calibrated.code == 0, calibrated.stderr
    lines = calibrated.stdout.splitlines()
    assert any("<- threshold" in line for line in lines), calibrated.stdout
    [suggestion] = [line for line in lines if line.startswith("suggested --threshold")]
    value = float(suggestion.split()[2].rstrip(":"))
    assert not (out / "metadata.json").exists() and not list(out.glob("clip_*.mp4"))
    as_json = json.loads(run_cli(*args, "--calibrate", "--json", output=out).stdout)
    assert as_json["suggested_threshold"] == value and as_json["clear_split"] is True
    # the target's own distances lie below the suggestion, the other man's above
    run = run_cli(*args, "--threshold", str(value), output=out)
    assert run.code == 0, run.stderr
    assert "scan read from the cache" in run.stderr
    first, last = short_montage.target_segments()[0]
    [segment] = run.metadata["segments"]
    assert abs(segment["start_frame"] - first) <= 1 and abs(segment["end_frame"] - last) <= 1
    print(f"\ncalibration suggested {value}; {suggestion}")
