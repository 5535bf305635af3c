"""Editor timelines through OpenTimelineIO: each file is written for a document, read
back (with OpenTimelineIO where its reader is exact) and its clips' source frames and
rate compared with the document's (pure: no media, no models)."""
from __future__ import annotations

from fractions import Fraction
from xml.etree import ElementTree

import opentimelineio as otio
import pytest

from facecut import output, timelines
from facecut.cli import build_config, build_parser
from facecut.exports import timecode, timecode_rate
from facecut.config import ReferenceSet
from facecut.metadata import (ClipOutcome, PersonResult, ReferenceSummary, Stats, VideoSummary,
                              build_metadata)
from facecut.segments import Box, Face, FrameFaces, Segment, match_people
from facecut.timecode import FrameClock
from facecut.timelines import EDL, FCP7_XML, FCPXML, FILES, OTIO, TimelineError

NTSC = Fraction(30000, 1001)
RATES = {  # fps_rational as the document has it -> the rate the timelines count at
    "29.97 DF": ("30000/1001", NTSC),
    "59.94 DF": ("60000/1001", Fraction(60000, 1001)),
    "25": ("25/1", Fraction(25)),
    "23.976": ("24000/1001", Fraction(24000, 1001)),
    "30": ("30/1", Fraction(30)),
}
# clip ranges (padding included): minute and ten-minute drop-frame boundaries, one long
CLIPS = [(1800, 1829), (17982, 18041), (20000, 20100)]
ADAPTERS = {OTIO: "otio_json", FCPXML: "fcpx_xml", FCP7_XML: "fcp_xml", EDL: "cmx_3600"}


# a second person: on screen with the host once (17990..18050), and alone twice
GUEST = [(900, 959), (17990, 18050), (30000, 30029)]


def document(fps="30000/1001", has_audio=True, clips=CLIPS, path="/videos/talk show.mp4",
             people=None):
    """The fields of metadata.json the timelines read; each appearance's own frames lie
    5 inside its clip range, as padding puts them. `people`: each person's clip ranges
    (default: one person, "host", with `clips`); appearance 2 of each has no clip."""
    people = {"host": clips} if people is None else people
    several = len(people) > 1
    return {
        "video": {"path": path, "fps": float(Fraction(fps)), "fps_rational": fps,
                  "frame_count": 36000, "width": 1920, "height": 1080,
                  "has_audio": has_audio, "audio_streams": 1 if has_audio else 0},
        "people": [{"name": name, "folder": name if several else ""} for name in people],
        "segments": [{"person": name, "index": n,
                      "clip": None if n == 2 else f"{name}/clip_{n}.mp4" if several
                      else f"clip_{n}.mp4",
                      "start_frame": first + 5, "end_frame": last - 5,
                      "clip_start_frame": first, "clip_end_frame": last}
                     for name, ranges in people.items()
                     for n, (first, last) in enumerate(ranges, start=1)],
    }


TWO = {"host": CLIPS, "guest": GUEST}


def read_back(name, text, rate):
    """The file as OpenTimelineIO reads it (an EDL says no rate: the reader is told)."""
    extra = {"rate": float(rate)} if name == EDL else {}
    return otio.adapters.read_from_string(text, ADAPTERS[name], **extra)


def tracks_back(name, text, rate):
    """The file's tracks as OpenTimelineIO reads them, as a list. Never loop over a
    temporary's `read_back(...).tracks`: its iterator does not keep the stack alive,
    so once the timeline is freed the loop sees no track and passes vacuously."""
    back = read_back(name, text, rate)
    return list(back.tracks)


def clip_frames(track, rate):
    """(first, last) source frame of each clip, checking each is whole and at `rate`."""
    result = []
    for clip in track.find_clips():
        start, duration = clip.source_range.start_time, clip.source_range.duration
        assert (start.rate, duration.rate) == (float(rate), float(rate))
        assert start.value == int(start.value) and duration.value == int(duration.value)
        result.append((int(start.value), int(start.value + duration.value) - 1))
    return result


def fcpxml_frames(text):
    """An exact reader of our fcpxml: (rate, [(first, last)]) from its rational times.
    OpenTimelineIO's fcpx reader truncates 29.97 to 29 fps (upstream issue 903), so it
    cannot check the NTSC rates."""
    root = ElementTree.fromstring(text)
    [form] = root.findall("./resources/format")
    frame = Fraction(form.get("frameDuration").removesuffix("s"))

    def frames(value):
        count = Fraction(value.removesuffix("s")) / frame
        assert count.denominator == 1, f"{value} is not a whole number of frames"
        return int(count)

    clips = [(frames(c.get("start")), frames(c.get("start")) + frames(c.get("duration")) - 1)
             for c in root.iter("asset-clip")]
    return 1 / frame, clips


# ---------------------------------------------------------------- rates


@pytest.mark.parametrize("fps, expected", [
    (Fraction(30000, 1001), Fraction(30000, 1001)),
    (Fraction(2997, 100), Fraction(30000, 1001)),  # "29.97" in a container is NTSC
    (Fraction(60000, 1001), Fraction(60000, 1001)),
    (Fraction(24000, 1001), Fraction(24000, 1001)),
    (Fraction(2997, 125), Fraction(24000, 1001)),  # "23.976"
    (Fraction(25), Fraction(25)),
    (Fraction(30), Fraction(30)),
    (Fraction(59, 2), Fraction(30)),  # 29.5 counts as 30 non-drop, as in the CSV
    (Fraction(2987, 100), Fraction(30)),  # a variable-rate phone video's average
    (Fraction(15), Fraction(15)),
])
def test_timeline_rate(fps, expected):
    assert timelines.timeline_rate(fps) == expected
    assert timecode_rate(expected) == timecode_rate(fps)  # the CSV's timecode rules


@pytest.mark.parametrize("rate", [Fraction(24000, 1001), Fraction(24), Fraction(25), NTSC,
                                  Fraction(30), Fraction(48000, 1001), Fraction(48),
                                  Fraction(50), Fraction(60000, 1001), Fraction(60)])
def test_opentimelineio_timecodes_follow_the_csv_rules(rate):
    """The EDL and FCP 7 XML adapters infer drop-frame from the rate: at every rate they
    accept, their timecodes must be exports.timecode's, frame for frame."""
    per_second, drop = timecode_rate(rate)
    for frames in (0, 1, 1799, 1800, 3597, 3598, 17982, 107891, 107892, 215784, 863999):
        time = otio.opentime.RationalTime(frames, float(rate))
        assert otio.opentime.to_timecode(time, float(rate)) == timecode(frames, per_second, drop)


# ---------------------------------------------------------------- the timeline


def test_timeline_is_a_selects_reel_of_the_clip_ranges():
    reel = timelines.timeline(document())
    assert reel.name == "talk show"
    assert reel.global_start_time == otio.opentime.RationalTime(107892, float(NTSC))  # 01:00:00;00
    video, audio = reel.tracks
    assert (video.kind, audio.kind) == (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio)
    for track in reel.tracks:
        assert [c.name for c in track] == ["appearance 1", "appearance 2", "appearance 3"]
        assert clip_frames(track, NTSC) == CLIPS
        # back to back from the start of the record side: no gaps
        assert [track.range_of_child_at_index(i).start_time.value for i in range(3)] == [0, 30, 90]
    reference = video[0].media_reference
    assert reference.target_url == "file:///videos/talk%20show.mp4"
    assert otio.url_utils.filepath_from_url(reference.target_url) == "/videos/talk show.mp4"
    assert reference.available_range == otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, float(NTSC)), otio.opentime.RationalTime(36000, float(NTSC)))
    assert video[1].metadata["facecut"] == {"person": "host", "appearance": 2,
                                            "start_frame": 17987,
                                            "end_frame": 18036, "clip": None}


def test_timeline_is_in_time_order_and_silent_video_has_no_audio_track():
    doc = document(has_audio=False)
    doc["segments"].reverse()
    reel = timelines.timeline(doc)
    [video] = reel.tracks
    assert [c.name for c in video] == ["appearance 1", "appearance 2", "appearance 3"]
    assert clip_frames(video, NTSC) == CLIPS


VIDEO, AUDIO = otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio


@pytest.mark.parametrize("people, has_audio, expected", [
    # (track name, kind, its clips' names, their source frames)
    ({"host": CLIPS}, True, [
        ("V1", VIDEO, ["appearance 1", "appearance 2", "appearance 3"], CLIPS),
        ("A1", AUDIO, ["appearance 1", "appearance 2", "appearance 3"], CLIPS)]),
    (TWO, True, [
        ("V1 host", VIDEO, ["host 1", "host 2", "host 3"], CLIPS),
        ("V2 guest", VIDEO, ["guest 1", "guest 2", "guest 3"], GUEST),
        ("A1 host", AUDIO, ["host 1", "host 2", "host 3"], CLIPS),
        ("A2 guest", AUDIO, ["guest 1", "guest 2", "guest 3"], GUEST)]),
    # someone searched and never found keeps their (empty) track: V2 is always the guest
    ({"host": [], "guest": GUEST[:1], "crew": []}, False, [
        ("V1 host", VIDEO, [], []), ("V2 guest", VIDEO, ["guest 1"], GUEST[:1]),
        ("V3 crew", VIDEO, [], [])]),
])
def test_timeline_has_a_track_per_person(people, has_audio, expected):
    reel = timelines.timeline(document(has_audio=has_audio, people=people))
    assert [(t.name, t.kind, [c.name for c in t], clip_frames(t, NTSC))
            for t in reel.tracks] == expected
    for track in reel.tracks:  # every person's reel starts at 01:00:00;00, back to back
        starts = [track.range_of_child_at_index(i).start_time.value for i in range(len(track))]
        durations = [last - first + 1 for first, last in clip_frames(track, NTSC)]
        assert starts == [sum(durations[:i]) for i in range(len(durations))]


def test_each_clip_says_whose_appearance_it_is():
    guest_2 = timelines.timeline(document(people=TWO)).tracks[1][1]
    assert guest_2.metadata["facecut"] == {"person": "guest", "appearance": 2,
                                           "start_frame": 17995, "end_frame": 18045,
                                           "clip": None}


# ---------------------------------------------------------------- every file, every rate


@pytest.mark.parametrize("label", RATES)
@pytest.mark.parametrize("name", FILES)
def test_every_file_reads_back_with_the_documents_frames(name, label):
    fps, rate = RATES[label]
    text = timelines.timeline_text(document(fps), name)
    if name == FCPXML:
        assert fcpxml_frames(text) == (rate, CLIPS)
        if rate.denominator == 1:  # OpenTimelineIO's own reader where it is exact
            [video] = read_back(name, text, rate).tracks
            assert clip_frames(video, rate) == CLIPS
            assert [c.name for c in video] == ["appearance 1", "appearance 2", "appearance 3"]
        return
    back = read_back(name, text, rate)
    kinds = [track.kind for track in back.tracks]
    # the EDL's AA/V events read back as V, A1 and A2
    assert kinds == (["Video", "Audio", "Audio"] if name == EDL else ["Video", "Audio"])
    for track in back.tracks:
        assert clip_frames(track, rate) == CLIPS
    if name == EDL:
        assert [c.name for c in back.tracks[0]] == ["talk show.mp4"] * 3  # relinks by it
        assert [c.metadata["cmx_3600"]["comments"][0] for c in back.tracks[0]] == [
            "FACECUT APPEARANCE: 1", "FACECUT APPEARANCE: 2", "FACECUT APPEARANCE: 3"]
    else:
        assert [c.name for c in back.tracks[0]] == ["appearance 1", "appearance 2", "appearance 3"]
        start = back.global_start_time
        assert start.value / start.rate == pytest.approx(timecode_hour_seconds(rate))


NAMES = {"host": ["host 1", "host 2", "host 3"], "guest": ["guest 1", "guest 2", "guest 3"]}


@pytest.mark.parametrize("label", ["29.97 DF", "25", "23.976"])
@pytest.mark.parametrize("name", FILES)
def test_two_people_read_back_with_their_own_frames(name, label):
    """Several people: where the format has tracks (OTIO, FCP 7 XML), a video and an
    audio track each; where it has one sequence (EDL, FCP X's primary storyline), the
    host's appearances then the guest's, each naming its person."""
    fps, rate = RATES[label]
    text = timelines.timeline_text(document(fps, people=TWO), name)
    in_turn = CLIPS + GUEST
    if name == FCPXML:
        assert fcpxml_frames(text) == (rate, in_turn)
        names = [c.get("name") for c in ElementTree.fromstring(text).iter("asset-clip")]
        assert names == NAMES["host"] + NAMES["guest"]
        if rate.denominator == 1:  # OpenTimelineIO's own reader where it is exact
            [video] = tracks_back(name, text, rate)
            assert clip_frames(video, rate) == in_turn
        return
    tracks = tracks_back(name, text, rate)
    if name == EDL:
        # one track of AA/V events: V, A1 and A2 read back
        assert [(t.kind, clip_frames(t, rate)) for t in tracks] == [
            ("Video", in_turn), ("Audio", in_turn), ("Audio", in_turn)]
        assert [c.metadata["cmx_3600"]["comments"][:2] for c in tracks[0]] == [
            [f"FACECUT PERSON: {who}", f"FACECUT APPEARANCE: {n}"]
            for who in ("host", "guest") for n in (1, 2, 3)]
        return
    assert [(t.kind, clip_frames(t, rate), [c.name for c in t]) for t in tracks] == [
        ("Video", CLIPS, NAMES["host"]), ("Video", GUEST, NAMES["guest"]),
        ("Audio", CLIPS, NAMES["host"]), ("Audio", GUEST, NAMES["guest"])]
    for track in tracks:  # each person's track from the record side's start
        assert track.range_of_child_at_index(0).start_time.value == 0


def timecode_hour_seconds(rate):
    """Seconds from zero to timecode 01:00:00:00 at `rate`."""
    per_second, drop = timecode_rate(rate)
    return (per_second * 3600 - (108 * per_second // 30 if drop else 0)) / rate


def real_document(people):
    """metadata.json as a default run with --padding 1 builds it, at 29.97, for
    `people`: each person's appearances (frames, inclusive), on screen alone."""
    names = list(people)
    arguments = build_parser().parse_args(["--video", "talk show.mp4", "--reference", "r.jpg",
                                           "--padding", "1"])
    config = build_config(arguments, [ReferenceSet(name, (f"{name}.jpg",)) for name in names])
    clock = FrameClock.constant(900, NTSC)
    summary = VideoSummary(path="/videos/talk show.mp4", fps=NTSC, frame_count=900,
                           duration=clock.end, width=640, height=360, has_audio=True,
                           audio_streams=1, rotation=0, start_time=Fraction(0),
                           variable_frame_rate=False)

    def distances(frame):
        return tuple(0.4 if any(a <= frame <= b for a, b in people[name]) else 0.9
                     for name in names)

    analysed = [FrameFaces(f, (Face(Box(1, 2, 30, 40), 0.95, distances(f)),)) for f in range(900)]
    matches = match_people(analysed, len(names), 0.6)
    folder = len(names) > 1
    results = [PersonResult(name, name if folder else "",
                            [Segment(a, b) for a, b in people[name]],
                            [ClipOutcome(f"{name}/clip_{n}.mp4" if folder else f"clip_{n}.mp4")
                             for n in range(1, len(people[name]) + 1)], matches[number])
               for number, name in enumerate(names)]
    references = [ReferenceSummary(f"/{name}.jpg", 1, {"x": 0, "y": 0, "w": 9, "h": 9}, name)
                  for name in names]
    return build_metadata(summary, references, config, clock, results, analysed, Stats())


@pytest.mark.parametrize("name", FILES)
def test_every_file_of_the_real_default_preset_document(name):
    doc = real_document({"r": [(100, 159), (400, 479)]})
    # 1 s of padding is 29.97 frames: rounded out to 30 on each side
    expected = [(70, 189), (370, 509)]
    assert [(s["clip_start_frame"], s["clip_end_frame"]) for s in doc["segments"]] == expected
    text = timelines.timeline_text(doc, name)
    if name == FCPXML:
        assert fcpxml_frames(text) == (NTSC, expected)
    else:
        tracks = [clip_frames(track, NTSC) for track in tracks_back(name, text, NTSC)]
        # the EDL's AA/V events read back as V, A1 and A2
        assert tracks == [expected] * (3 if name == EDL else 2)


@pytest.mark.parametrize("name", FILES)
def test_every_file_of_a_real_two_person_document(name):
    """The same run searching two people, as metadata.py builds it: each person's
    appearances on their own track, or in turn where the format has one."""
    doc = real_document({"host": [(100, 159), (400, 479)], "guest": [(600, 659)]})
    host, guest = [(70, 189), (370, 509)], [(570, 689)]
    text = timelines.timeline_text(doc, name)
    if name == FCPXML:
        assert fcpxml_frames(text) == (NTSC, host + guest)
        return
    tracks = [clip_frames(track, NTSC) for track in tracks_back(name, text, NTSC)]
    # the EDL's one track reads back as V, A1, A2; the others' as V1 V2 A1 A2
    assert tracks == ([host + guest] * 3 if name == EDL else [host, guest, host, guest])


# ---------------------------------------------------------------- each format's text


def test_edl_is_cmx3600_with_drop_frame_timecodes():
    lines = timelines.timeline_text(document(), EDL).splitlines()
    assert lines[:2] == ["TITLE: talk show", "FCM: DROP FRAME"]
    assert [line for line in lines if line[:3].isdigit()] == [
        # source in/out: 1800 -> 00:01:00;02 (;00 and ;01 are skipped at minute 1),
        # 17982 -> 00:10:00;00 (not at minute 10); out points exclusive. Record side
        # back to back from 01:00:00;00 (frame 107892)
        "001  AX       AA/V  C        00:01:00;02 00:01:01;02 01:00:00;00 01:00:01;00",
        "002  AX       AA/V  C        00:10:00;00 00:10:02;00 01:00:01;00 01:00:03;00",
        "003  AX       AA/V  C        00:11:07;10 00:11:10;21 01:00:03;00 01:00:06;11",
    ]
    assert lines[4:8] == ["* FROM CLIP NAME:  talk show.mp4",
                          "* FROM CLIP: file:///videos/talk%20show.mp4",
                          "* FACECUT APPEARANCE: 1", "* FACECUT CLIP: clip_1.mp4"]
    assert "* FACECUT CLIP: clip_2.mp4" not in lines  # appearance 2 has no clip


def test_edl_lists_every_persons_events_in_turn():
    doc = document(people={"host": CLIPS[:2], "guest": [(17990, 18050)]})
    lines = timelines.timeline_text(doc, EDL).splitlines()
    assert lines[:2] == ["TITLE: talk show", "FCM: DROP FRAME"]
    assert [line for line in lines if line[:3].isdigit()] == [
        "001  AX       AA/V  C        00:01:00;02 00:01:01;02 01:00:00;00 01:00:01;00",
        "002  AX       AA/V  C        00:10:00;00 00:10:02;00 01:00:01;00 01:00:03;00",
        # the guest, on screen with the host's second appearance, after it on the record
        "003  AX       AA/V  C        00:10:00;08 00:10:02;09 01:00:03;00 01:00:05;01",
    ]
    assert lines[-5:] == ["* FROM CLIP NAME:  talk show.mp4",
                          "* FROM CLIP: file:///videos/talk%20show.mp4",
                          "* FACECUT PERSON: guest", "* FACECUT APPEARANCE: 1",
                          "* FACECUT CLIP: guest/clip_1.mp4"]
    assert "* FACECUT PERSON: host" in lines


def test_edl_without_audio_at_25_fps():
    text = timelines.timeline_text(document("25/1", has_audio=False), EDL)
    assert "FCM: NON-DROP FRAME" in text.splitlines()
    assert "001  AX       V     C        00:01:12:00 00:01:13:05 01:00:00:00 01:00:01:05" in text


def test_edl_title_is_one_line_of_at_most_70_characters():
    path = "/v/" + "a very long name with\ttabs " * 5 + ".mp4"
    title = timelines.timeline_text(document(path=path), EDL).splitlines()[0]
    assert title == "TITLE: " + " ".join(("a very long name with tabs " * 5).split())[:70]


def test_fcpxml_times_are_exact_at_29_97():
    root = ElementTree.fromstring(timelines.timeline_text(document(), FCPXML))
    [form] = root.findall("./resources/format")
    assert form.attrib == {"id": "r1", "frameDuration": "1001/30000s", "width": "1920",
                           "height": "1080"}
    [asset] = root.findall("./resources/asset")
    assert (asset.get("name"), asset.get("src"), asset.get("duration")) == (
        "talk show.mp4", "file:///videos/talk%20show.mp4", "6006/5s")  # 36000 frames
    assert (asset.get("hasVideo"), asset.get("hasAudio")) == ("1", "1")
    assert root.findall("./asset-clip") == []  # no whole-video browser clip per appearance
    sequence = root.find("./project/sequence")
    # 01:00:00;00 is frame 107892: 107892 x 1001/30000 s
    assert (sequence.get("tcStart"), sequence.get("tcFormat")) == ("8999991/2500s", "DF")
    assert [(c.get("name"), c.get("offset"), c.get("start"), c.get("duration"))
            for c in sequence.iter("asset-clip")] == [
        ("appearance 1", "0s", "3003/50s", "1001/1000s"),  # frame 1800, 30 frames
        ("appearance 2", "1001/1000s", "2999997/5000s", "1001/500s"),  # 17982, 60
        ("appearance 3", "3003/1000s", "2002/3s", "101101/30000s"),  # 20000, 101
    ]


def test_fcp7_xml_has_drop_frame_timecodes_and_real_audio_items():
    root = ElementTree.fromstring(timelines.timeline_text(document(), FCP7_XML))
    sequence = root.find("./project/children/sequence")
    assert sequence.find("./timecode/string").text == "01:00:00;00"
    assert sequence.find("./timecode/frame").text == "107892"
    assert sequence.find("./media/video/format/samplecharacteristics/width").text == "1920"
    file = sequence.find(".//file/pathurl/..")
    assert (file.find("pathurl").text, file.find("name").text) == (
        "file:///videos/talk%20show.mp4", "talk show.mp4")
    assert file.find("./timecode/displayformat").text == "DF"
    audio = sequence.findall("./media/audio/track/clipitem")
    assert [(a.find("name").text, a.find("in").text, a.find("out").text) for a in audio] == [
        ("appearance 1", "1800", "1830"), ("appearance 2", "17982", "18042"),
        ("appearance 3", "20000", "20101")]
    assert {a.find("./sourcetrack/mediatype").text for a in audio} == {"audio"}


def test_fcp7_xml_has_a_video_and_an_audio_track_per_person():
    root = ElementTree.fromstring(timelines.timeline_text(document(people=TWO), FCP7_XML))
    media = root.find("./project/children/sequence/media")

    def tracks(kind):
        return [[(c.find("name").text, c.find("in").text, c.find("start").text)
                 for c in track.findall("clipitem")] for track in media.findall(f"{kind}/track")]

    host = [("host 1", "1800", "0"), ("host 2", "17982", "30"), ("host 3", "20000", "90")]
    guest = [("guest 1", "900", "0"), ("guest 2", "17990", "60"), ("guest 3", "30000", "121")]
    assert tracks("video") == tracks("audio") == [host, guest]
    assert {a.find("./sourcetrack/mediatype").text
            for a in media.iterfind("audio/track/clipitem")} == {"audio"}
    # one file element, referred to by every item
    assert len(root.findall(".//file/pathurl")) == 1


def test_no_appearances_gives_empty_timelines():
    doc = document(clips=[])
    for name in FILES:
        text = timelines.timeline_text(doc, name)
        if name == FCPXML:
            assert fcpxml_frames(text) == (NTSC, [])
        else:
            # a video and an audio track, empty; an EDL of no events reads back as none
            assert [clip_frames(t, NTSC) for t in tracks_back(name, text, NTSC)] == (
                [] if name == EDL else [[], []])
    assert timelines.timeline_text(doc, EDL).splitlines() == ["TITLE: talk show",
                                                              "FCM: DROP FRAME", ""]


# ---------------------------------------------------------------- what cannot be written


def test_rates_without_smpte_timecode_write_only_the_otio_file():
    doc = document("15/1")
    assert clip_frames(read_back(OTIO, timelines.timeline_text(doc, OTIO), 15).tracks[0],
                       15) == CLIPS
    for name, message in [
        (EDL, "segments.edl not written: SMPTE timecode has no 15 fps; open segments.otio or "
              "segments.csv instead"),
        (FCP7_XML, "segments.xml not written: SMPTE timecode has no 15 fps; open "
                   "segments.otio or segments.csv instead"),
        (FCPXML, "segments.fcpxml not written: Final Cut Pro X has no 15 fps timeline; "
                 "open segments.otio instead"),
    ]:
        with pytest.raises(TimelineError) as raised:
            timelines.timeline_text(doc, name)
        assert str(raised.value) == message


def test_48_fps_has_no_fcpxml_but_the_others():
    doc = document("48/1")
    with pytest.raises(TimelineError, match="no 48 fps timeline; open segments.xml instead"):
        timelines.timeline_text(doc, FCPXML)
    for name in (OTIO, FCP7_XML, EDL):
        assert clip_frames(read_back(name, timelines.timeline_text(doc, name), 48).tracks[0],
                           48) == CLIPS


@pytest.mark.parametrize("split", [False, True])
def test_edl_holds_999_events(split):
    """Everyone's appearances count: the EDL has one list of events."""
    many = [(10 * n, 10 * n + 4) for n in range(1000)]

    def doc(ranges):
        half = len(ranges) // 2
        return document(people={"host": ranges[:half], "guest": ranges[half:]} if split
                        else {"host": ranges})

    with pytest.raises(TimelineError, match="CMX 3600 holds 999 events and this video has "
                                            "1000 appearances; open segments.xml instead"):
        timelines.timeline_text(doc(many), EDL)
    lines = timelines.timeline_text(doc(many[:999]), EDL).splitlines()
    events = [line for line in lines if line[:3].isdigit()]
    assert len(events) == 999 and events[-1].startswith("999  AX       AA/V  C ")


def test_an_adapter_failing_costs_its_file_only(monkeypatch):
    write = otio.adapters.write_to_string

    def failing(timeline, adapter_name, **kwargs):
        if adapter_name == "cmx_3600":
            raise RuntimeError("boom\nsecond line")
        return write(timeline, adapter_name, **kwargs)

    monkeypatch.setattr(otio.adapters, "write_to_string", failing)
    with pytest.raises(TimelineError) as raised:
        timelines.timeline_text(document(), EDL)
    assert str(raised.value) == (
        "segments.edl not written: OpenTimelineIO failed (RuntimeError: boom); the other "
        "timelines and segments.csv hold the same appearances")
    assert clip_frames(read_back(FCP7_XML, timelines.timeline_text(document(), FCP7_XML),
                                 NTSC).tracks[0], NTSC) == CLIPS


def test_adapters_are_registered_with_opentimelineio():
    names = otio.adapters.available_adapter_names()
    assert {"otio_json", "fcpx_xml", "fcp_xml", "cmx_3600"} <= set(names)
    assert {otio.adapters.from_filepath(f"x/{name}").name for name in FILES} == set(
        ADAPTERS.values())


def test_the_timelines_are_result_files():
    """--overwrite replaces them, and an input named like one is refused."""
    assert set(FILES) <= set(output.EXPORTS)
