"""pipeline.run end to end with a fake scan backend: the real probe, plan, analysis,
ffmpeg cuts, results folder and scan cache, with the face models replaced by chunk
results whose faces are known (dependency injection through the ScanBackend
protocol). No model loads, so these run in the fast tier."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pytest

from checks import video_frame_count
from facecut import testing
from facecut.analysis import ChunkResult
from facecut.cli import build_config, build_parser
from facecut.config import Config, Job, ReferenceSet, ScanSettings
from facecut.embeddings import Gallery
from facecut.metadata import ReferenceSummary
from facecut.pipeline import References, run
from facecut.planning import Chunk
from facecut.segments import Box, Face, FrameFaces
from facecut.tracking import IDS_PER_CHUNK
from montage import ffmpeg

FRAMES = 90  # 3 s at 30 fps
BOX = Box(40, 30, 60, 60)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of a test pattern at 30 fps with a tone: no faces, nothing to decode slowly."""
    path = tmp_path_factory.mktemp("pipeline") / "pattern.mp4"
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=30:duration=3", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=3", "-c:v", "libx264", "-g", "30",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    # the photo is never looked at (the fake scan knows the faces); the scan cache
    # digests its bytes
    (path.parent / "photo.jpg").write_bytes(b"not looked at")
    return path


class FakeBackend:
    """Scans by saying which frames show the person (distance 0.3) and which show
    someone else (0.9), one track per chunk; counts the chunks it was asked for."""

    name = "fake"

    def __init__(self, shows_person: Callable[[int], bool]) -> None:
        self.shows_person = shows_person
        self.chunks_scanned: list[Chunk] = []

    def chunk_count(self, video: object) -> int:
        return 2

    def runner(self, video: object, settings: ScanSettings, references: np.ndarray,
               show_bars: bool, bar_offset: int) -> FakeBackend:
        return self

    def run(self, chunks: Sequence[Chunk],
            on_result: Callable[[ChunkResult], None] | None) -> list[ChunkResult]:
        results = []
        for chunk in chunks:
            self.chunks_scanned.append(chunk)
            track = chunk.index * IDS_PER_CHUNK
            frames = tuple(FrameFaces(i, (Face(BOX, 0.99, (0.3 if self.shows_person(i) else 0.9,),
                                               track),))
                           for i in chunk.analysed_frames)
            result = ChunkResult(chunk, frames, chunk.frame_count,
                                 {track: (np.zeros(2), np.zeros(2))})
            if on_result is not None:
                on_result(result)
            results.append(result)
        return results

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        pass


REFERENCES = References(Gallery(np.zeros((1, 2)), (0,)), (ReferenceSummary("/photo.jpg", 1,
                                                             {"x": 0, "y": 0, "w": 9, "h": 9}),))


def config_of(video: Path, *extra: str) -> Config:
    """The configuration of a run; every frame analysed unless --interval says otherwise
    (the fake scan's frames are exact, so these tests need no refinement)."""
    photo = str(video.parent / "photo.jpg")
    every = [] if "--interval" in extra else ["--interval", "1"]
    arguments = build_parser().parse_args(["--video", str(video), "--reference", photo,
                                           "--quiet", *every, *extra])
    return build_config(arguments, [ReferenceSet("photo", (photo,))])


def between(*ranges: tuple[int, int]) -> Callable[[int], bool]:
    return lambda frame: any(first <= frame <= last for first, last in ranges)


def test_run_cuts_each_appearance_and_writes_every_result(video, tmp_path):
    backend = FakeBackend(between((10, 29), (60, 74)))
    report = run(config_of(video), Job(str(video), tmp_path / "out"), REFERENCES, backend)
    assert (report.exit_code, report.segments, report.clips_failed) == (0, 2, 0)
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert [(s["start_frame"], s["end_frame"]) for s in doc["segments"]] == [(10, 29), (60, 74)]
    assert doc["stats"]["backend"] == "local" and doc["stats"]["workers"] == 2
    assert [c.frame_count for c in backend.chunks_scanned] == [45, 45]
    for segment in doc["segments"]:
        clip = tmp_path / "out" / segment["clip"]
        assert video_frame_count(clip) == segment["end_frame"] - segment["start_frame"] + 1
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"metadata.json", "segments.csv", "segments.edl", "segments.otio", "segments.fcpxml",
            "segments.xml", "index.html", "timeline.png", "clip_1.mp4", "clip_2.mp4"} <= names
    assert not [n for n in names if n.startswith(".facecut-partial-")]


def test_not_found_writes_metadata_and_no_clip(video, tmp_path):
    report = run(config_of(video), Job(str(video), tmp_path / "out"), REFERENCES,
                 FakeBackend(lambda frame: False))
    assert (report.exit_code, report.segments) == (1, 0)
    assert json.loads((tmp_path / "out" / "metadata.json").read_text())["segments"] == []
    assert not list((tmp_path / "out").glob("clip_*.mp4"))


def test_rerun_with_another_threshold_reads_the_scan_cache(video, tmp_path):
    out = tmp_path / "out"
    first = FakeBackend(between((10, 29)))
    assert run(config_of(video), Job(str(video), out), REFERENCES, first).exit_code == 0
    again = FakeBackend(between((10, 29)))
    # 0.2: the faces at 0.3 no longer match; nothing needs scanning to know it
    report = run(config_of(video, "--threshold", "0.2", "--overwrite"), Job(str(video), out),
                 REFERENCES, again)
    assert again.chunks_scanned == []
    assert (report.exit_code, report.segments) == (1, 0)
    doc = json.loads((out / "metadata.json").read_text())
    assert doc["stats"]["chunks_from_cache"] == 2 and doc["settings"]["threshold"] == 0.2


def test_sampled_pass_refines_edges_to_the_frame(video, tmp_path):
    backend = FakeBackend(between((23, 51)))
    report = run(config_of(video, "--interval", "10"), Job(str(video), tmp_path / "out"),
                 REFERENCES, backend)
    assert report.exit_code == 0
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert [(s["start_frame"], s["end_frame"]) for s in doc["segments"]] == [(23, 51)]
    assert any(chunk.refine for chunk in backend.chunks_scanned)
    assert doc["stats"]["frames_refined"] > 0


def test_calibrate_writes_nothing_and_reports_distances(video, tmp_path):
    report = run(config_of(video, "--calibrate"), Job(str(video), tmp_path / "out"), REFERENCES,
                 FakeBackend(between((0, 9))))
    assert report.exit_code == 0 and report.distances is not None
    assert sorted(set(report.distances)) == [0.3, 0.9] and len(report.distances) == FRAMES
    assert not (tmp_path / "out" / "metadata.json").exists()


def test_dry_run_cuts_no_clip(video, tmp_path):
    report = run(config_of(video, "--dry-run"), Job(str(video), tmp_path / "out"), REFERENCES,
                 FakeBackend(between((10, 29))))
    assert (report.exit_code, report.segments) == (0, 1)
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert doc["settings"]["cut"] == "none" and doc["segments"][0]["clip"] is None
    assert not list((tmp_path / "out").glob("clip_*.mp4"))


def test_one_failed_clip_is_recorded_and_the_others_are_cut(video, tmp_path, monkeypatch):
    monkeypatch.setenv(testing.CLIP_FAULT, "1")
    report = run(config_of(video), Job(str(video), tmp_path / "out"), REFERENCES,
                 FakeBackend(between((10, 29), (60, 74))))
    assert (report.exit_code, report.segments, report.clips_failed) == (2, 2, 1)
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert "error" in doc["segments"][0] and doc["segments"][1]["clip"] == "clip_2.mp4"
    assert [p.name for p in (tmp_path / "out").glob("clip_*.mp4")] == ["clip_2.mp4"]


def test_supercut_joins_every_appearance_once(video, tmp_path):
    """Two appearances with 0.5 s of padding: frames 10..29 and 60..74 become 0..44
    and 45..89, which touch: one range of all 90 frames. Without padding, two ranges
    of 20 and 15 frames, 35 in all."""
    report = run(config_of(video, "--supercut"), Job(str(video), tmp_path / "out"), REFERENCES,
                 FakeBackend(between((10, 29), (60, 74))))
    assert report.exit_code == 0
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert doc["supercut"]["file"] == "supercut.mp4" and doc["supercut"]["cut"] == "reencode"
    assert doc["supercut"]["ranges"] == [[10, 29], [60, 74]] and doc["supercut"]["frames"] == 35
    assert video_frame_count(tmp_path / "out" / "supercut.mp4") == 35
    padded = run(config_of(video, "--supercut", "--padding", "0.5"),
                 Job(str(video), tmp_path / "padded"), REFERENCES,
                 FakeBackend(between((10, 29), (60, 74))))
    assert padded.exit_code == 0
    doc = json.loads((tmp_path / "padded" / "metadata.json").read_text())
    assert doc["supercut"]["ranges"] == [[0, 89]] and doc["supercut"]["frames"] == FRAMES
    assert video_frame_count(tmp_path / "padded" / "supercut.mp4") == FRAMES


def test_no_supercut_unless_asked(video, tmp_path):
    run(config_of(video), Job(str(video), tmp_path / "out"), REFERENCES,
        FakeBackend(between((10, 29))))
    doc = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert doc["supercut"] is None and not (tmp_path / "out" / "supercut.mp4").exists()
