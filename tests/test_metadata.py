import json
from fractions import Fraction

import pytest

from facecut.config import (Config, CutSettings, OutputSettings, ScanSettings,
                            SegmentSettings)
from facecut.metadata import ClipOutcome, ReferenceSummary, Stats, VideoSummary, build_metadata
from facecut.presets import ACCURATE
from facecut.segments import Box, Face, FrameFaces, Segment, match_frames
from facecut.timecode import FrameClock

FPS = Fraction(30000, 1001)
CLOCK = FrameClock.constant(100, FPS)


def video():
    return VideoSummary(path="/v/talk.mp4", fps=FPS, frame_count=100, duration=CLOCK.end,
                        width=640, height=360, has_audio=True, audio_streams=1, rotation=0,
                        start_time=Fraction(0), variable_frame_rate=False)


def settings(padding=Fraction(0)):
    return Config(preset=ACCURATE, references=("/r.jpg",), processes=2, backend="local",
                  scan=ScanSettings(model="Dlib", detector="dlib", detect_size=1280, interval=1,
                                    metric="euclidean", model_threshold=0.5),
                  segments=SegmentSettings(threshold=0.6, min_gap=Fraction(1, 2),
                                           min_duration=Fraction(0)),
                  cut=CutSettings(mode="exact", padding=padding, encoding="veryfast"),
                  output=OutputSettings())


def frames():
    result = []
    for frame in range(100):
        distance = 0.4 if 10 <= frame <= 19 else 0.9
        result.append(FrameFaces(frame, (Face(Box(1, 2, 30, 40), 0.95, distance),)))
    return result


def build(padding=Fraction(0), clips=None):
    analysed = frames()
    return build_metadata(video(), [ReferenceSummary("/r.jpg", 1, {"x": 0, "y": 0, "w": 9, "h": 9})],
                          settings(padding), CLOCK, [Segment(10, 19)],
                          clips or [ClipOutcome("clip_1.mp4")], analysed,
                          match_frames(analysed, 0.6), Stats(frames_analysed=100))


def test_metadata_has_the_contract_fields():
    doc = build()
    json.dumps(doc)  # serialisable
    assert doc["schema_version"] == 3
    assert doc["video"]["fps_rational"] == "30000/1001"
    assert doc["video"]["fps"] == pytest.approx(29.97003)
    for key in ("path", "frame_count", "duration", "width", "height", "has_audio"):
        assert key in doc["video"]
    assert [r["path"] for r in doc["references"]] == ["/r.jpg"]
    assert set(doc["settings"]) >= {"model", "detector", "threshold", "interval", "min_gap",
                                    "min_duration", "padding", "cut"}
    assert set(doc["stats"]) >= {"frames_analysed", "seconds_scan", "seconds_cut", "seconds_total"}


def test_segment_times_and_detections():
    segment = build()["segments"][0]
    assert segment["index"] == 1 and segment["clip"] == "clip_1.mp4"
    assert (segment["start_frame"], segment["end_frame"]) == (10, 19)
    assert segment["start_time"] == round(10 * 1001 / 30000, 6)
    assert segment["end_time"] == round(20 * 1001 / 30000, 6)  # end of the last frame
    assert [d["frame"] for d in segment["detections"]] == list(range(10, 20))
    assert segment["detections"][0]["box"] == {"x": 1, "y": 2, "w": 30, "h": 40}
    assert segment["detections"][0]["distance"] == 0.4
    assert segment["detections"][0]["matched_by"] == "self"


def test_each_clip_says_how_it_was_cut_and_what_it_shows():
    outcome = ClipOutcome("clip_1.mp4", None, "copy-keyframe", 4, 19)
    segment = build(clips=[outcome])["segments"][0]
    assert (segment["clip_cut"], segment["clip_first_frame_shown"],
            segment["clip_last_frame_shown"]) == ("copy-keyframe", 4, 19)
    assert (segment["clip_start_frame"], segment["clip_end_frame"]) == (10, 19)  # as asked


def test_padding_recorded_separately():
    segment = build(padding=Fraction(1, 10))["segments"][0]
    assert (segment["start_frame"], segment["end_frame"]) == (10, 19)
    assert (segment["clip_start_frame"], segment["clip_end_frame"]) == (7, 22)  # 0.1 s is 2.997 frames: rounded out to 3
    assert segment["clip_start_time"] < segment["start_time"]


def test_failed_clip_is_recorded():
    doc = build(clips=[ClipOutcome(None, "cutting clip_1.mp4: disk full")])
    assert doc["segments"][0]["error"] == "cutting clip_1.mp4: disk full"
    assert doc["summary"]["clips_failed"] == 1 and doc["summary"]["clips_written"] == 0
