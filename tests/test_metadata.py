import json
from fractions import Fraction

import pytest

from facecut.config import (Config, CutSettings, OutputSettings, ReferenceSet, ScanSettings,
                            SegmentSettings)
from facecut.metadata import (ClipOutcome, PersonResult, ReferenceSummary, Stats, VideoSummary,
                              build_metadata)
from facecut.presets import ACCURATE
from facecut.segments import Box, Face, FrameFaces, Segment, match_people
from matching import match_frames
from facecut.timecode import FrameClock

FPS = Fraction(30000, 1001)
CLOCK = FrameClock.constant(100, FPS)


def video():
    return VideoSummary(path="/v/talk.mp4", fps=FPS, frame_count=100, duration=CLOCK.end,
                        width=640, height=360, has_audio=True, audio_streams=1, rotation=0,
                        start_time=Fraction(0), variable_frame_rate=False)


def settings(padding=Fraction(0)):
    return Config(preset=ACCURATE, people=(ReferenceSet("r", ("/r.jpg",)),), processes=2, backend="local",
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
        result.append(FrameFaces(frame, (Face(Box(1, 2, 30, 40), 0.95, (distance,)),)))
    return result


def build(padding=Fraction(0), clips=None):
    analysed = frames()
    person = PersonResult("r", "", [Segment(10, 19)], clips or [ClipOutcome("clip_1.mp4")],
                          match_frames(analysed, 0.6))
    return build_metadata(video(), [ReferenceSummary("/r.jpg", 1, {"x": 0, "y": 0, "w": 9, "h": 9},
                                                     "r")],
                          settings(padding), CLOCK, [person], analysed, Stats(frames_analysed=100))


def test_metadata_has_the_contract_fields():
    doc = build()
    json.dumps(doc)  # serialisable
    assert doc["schema_version"] == 4
    assert doc["people"] == [{"name": "r", "references": ["/r.jpg"], "folder": "", "face": None,
                              "segments": 1, "seconds_on_screen": round(10 * 1001 / 30000, 6),
                              "clips_written": 1, "clips_failed": 0}]
    assert doc["references"][0]["person"] == "r"
    assert doc["video"]["fps_rational"] == "30000/1001"
    assert doc["video"]["fps"] == pytest.approx(29.97003)
    for key in ("path", "frame_count", "duration", "width", "height", "has_audio"):
        assert key in doc["video"]
    assert [r["path"] for r in doc["references"]] == ["/r.jpg"]
    assert set(doc["settings"]) >= {"model", "detector", "threshold", "interval", "min_gap",
                                    "min_duration", "padding", "cut"}
    assert set(doc["stats"]) >= {"frames_analysed", "seconds_scan", "seconds_cut", "seconds_total"}


def test_two_people_each_get_their_segments_and_distances():
    """Two faces a frame: the left one is host's (0.3 from host, 0.8 from guest) on
    frames 10-19, the right one guest's on frames 15-29. Each person's segments,
    detections and distances are their own; the totals count frames 15-19 once."""
    left, right = Box(0, 0, 30, 30), Box(100, 0, 30, 30)
    analysed = []
    for frame in range(100):
        faces = []
        if 10 <= frame <= 19:
            faces.append(Face(left, 0.9, (0.3, 0.8)))
        if 15 <= frame <= 29:
            faces.append(Face(right, 0.9, (0.7, 0.2)))
        analysed.append(FrameFaces(frame, tuple(faces)))
    host, guest = match_people(analysed, 2, 0.6)
    people = [PersonResult("host", "host", [Segment(10, 19)], [ClipOutcome("host/clip_1.mp4")],
                           host),
              PersonResult("guest", "guest", [Segment(15, 29)],
                           [ClipOutcome(None, "it failed")], guest)]
    refs = [ReferenceSummary("/h.jpg", 1, {"x": 0, "y": 0, "w": 9, "h": 9}, "host"),
            ReferenceSummary("/g.jpg", 1, {"x": 0, "y": 0, "w": 9, "h": 9}, "guest")]
    doc = build_metadata(video(), refs, settings(), CLOCK, people, analysed, Stats())
    assert [(s["person"], s["index"], s["clip"], s["start_frame"]) for s in doc["segments"]] == [
        ("host", 1, "host/clip_1.mp4", 10), ("guest", 1, None, 15)]
    [host_segment, guest_segment] = doc["segments"]
    assert {d["box"]["x"] for d in host_segment["detections"]} == {0}
    assert {d["distance"] for d in host_segment["detections"]} == {0.3}
    assert {d["box"]["x"] for d in guest_segment["detections"]} == {100}
    assert {d["distance"] for d in guest_segment["detections"]} == {0.2}
    assert [(p["name"], p["references"], p["clips_written"], p["clips_failed"])
            for p in doc["people"]] == [("host", ["/h.jpg"], 1, 0), ("guest", ["/g.jpg"], 0, 1)]
    frame = Fraction(1001, 30000)
    assert doc["summary"]["seconds_on_screen"] == round(float(20 * frame), 6)  # frames 10-29
    assert doc["summary"]["clips_failed"] == 1


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
