"""Editor timelines of the appearances, through OpenTimelineIO (pure: no I/O).

One timeline is built from the metadata document (`timeline`); `timeline_text` renders it
as one of four files, which the results folder writes beside metadata.json:

- segments.otio   OpenTimelineIO's own JSON (otio_json, part of opentimelineio)
- segments.fcpxml Final Cut Pro X / DaVinci Resolve (otio-fcpx-xml-adapter)
- segments.xml    Final Cut Pro 7 XML, which Premiere and Resolve import (otio-fcp-adapter)
- segments.edl    CMX 3600 (otio-cmx3600-adapter)

The timeline is a selects reel: one clip per appearance, in time order and back to back
(no gaps: an editor wants the moments, not the waits between them). Each clip references
the source video (a file URL of its absolute path, the whole video available) and its
source range is the appearance's clip range, padding included
(clip_start_frame..clip_end_frame), at the timeline rate below. The record side starts at
01:00:00:00, the editors' convention.

Each person searched has their own video track, in the document's order (V1 the first
person named on the command line, V2 the second, ...), holding their appearances back to
back from 01:00:00:00, and, when the source has sound, their own audio track with the
same clips (A1, A2, ...). A person named but never found keeps an empty track, so V2 is
the second person named in every video of a batch (people found with no photo are only
those in the video, each under their batch number). Why a track each, not everyone on
one track in turn: an editor cutting a two-person interview wants the host's selects apart from the
guest's, to solo, lock, lift or copy one person's at a time, which a track is in every
editor; one track would mix them, and two people on screen together would be two
clips of the same moment far apart. Tracks stack, so played as a whole the upper
person's picture covers the lower's while both have a clip: it is a reel of selects,
each track read on its own, not a cut. Clips are named "host 3" when several people are
searched ("appearance 3", as always, when one is), and carry the person in their
metadata.

Two formats hold one sequence, so there each person's appearances follow the previous
person's (the document's order, the names telling them apart):
- the EDL: CMX 3600 has one track; the person is a comment on each event.
- the FCP X file: one primary storyline. FCP X has no tracks: its other lanes are clips
  connected to a primary-storyline clip, so a second person's lane could not run past
  the first person's last clip nor exist without one, and the adapter places connected
  clips at a whole frame rate (29 for 29.97), off by frames.
With one person every file is what it was before several could be searched, but for
the person in each clip's metadata (segments.otio).

Frames are what counts. The rate is the video's frame rate as `timeline_rate` names it
for timecode; source timecode 00:00:00:00 is the file's first frame (not any timecode the
file embeds). For variable-frame-rate video the document's fps is the average: the
timelines assume, as editors do when they conform such a file to a constant rate, that
frame N of the file is frame N at that rate, so in and out points are the document's
frames exactly and only the times an editor shows for them are approximate.
"""

from __future__ import annotations

import copy
import pathlib
import re
import urllib.parse
from collections.abc import Mapping
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

import opentimelineio as otio  # type: ignore[import-untyped]
from otio_fcpx_xml_adapter import fcpx_xml  # type: ignore[import-untyped]

from .errors import FacecutError
from .exports import timecode_rate

OTIO, FCPXML, FCP7_XML, EDL = "segments.otio", "segments.fcpxml", "segments.xml", "segments.edl"
FILES = (OTIO, FCPXML, FCP7_XML, EDL)

# Final Cut Pro X projects run at these rates only (its own list; the adapter's table)
FCPX_RATES = tuple(
    Fraction(rate)
    for rate in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
)
EDL_TITLE_LENGTH = 70  # CMX 3600 reads at most 70 characters of TITLE
EDL_EVENTS = 999  # and numbers its events with 3 digits


class TimelineError(FacecutError):
    """One timeline file cannot be written for this video; the others still are."""


def timeline_rate(fps: Fraction) -> Fraction:
    """The frame rate timelines count at: exports.timecode_rate's nominal rate, or its
    NTSC variant (x1000/1001) when the video is within 1/1000 fps of it, so "29.97" in
    a container is 30000/1001 (drop-frame) and 29.5 is 30 (non-drop), as the CSV's
    timecodes count them."""
    nominal, _ = timecode_rate(fps)
    ntsc = Fraction(nominal * 1000, 1001)
    if nominal in (24, 30, 48, 60) and fps != nominal and abs(fps - ntsc) < Fraction(1, 1000):
        return ntsc
    return Fraction(nominal)


def _one_hour(rate: Fraction) -> int:
    """Frames from zero to timecode 01:00:00:00 at `rate` (drop-frame skips 108 numbers
    an hour at 29.97, 216 at 59.94)."""
    per_second, drop = timecode_rate(rate)
    return per_second * 3600 - (6 * 9 * 2 * (per_second // 30) if drop else 0)


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _file_url(path: str) -> str:
    """file:///videos/talk%20show.mp4: percent-encoded, as Final Cut and Premiere write
    them (OpenTimelineIO's url_from_filepath leaves spaces unencoded)."""
    native = pathlib.PurePath(path)  # the document was written on this machine
    if native.is_absolute():
        return native.as_uri()
    return urllib.parse.quote(native.as_posix())  # relative: no file:// form exists


def appearance_name(person: str, index: int, several: bool) -> str:
    """A clip's name: "appearance 3" when one person is searched, "host 3" when
    several are (each person's appearances are numbered from 1)."""
    return f"{person} {index}" if several else f"appearance {index}"


def timeline(document: Mapping[str, Any]) -> Any:
    """The selects reel of the document's appearances (an otio.schema.Timeline): a
    video track per person in the document's order, then an audio track per person
    when the source has sound."""
    video = document["video"]
    rate = timeline_rate(Fraction(video["fps_rational"]))

    def at(frames: int) -> Any:
        return otio.opentime.RationalTime(frames, float(rate))

    name = _file_name(str(video["path"]))
    reference = otio.schema.ExternalReference(
        target_url=_file_url(str(video["path"])),
        available_range=otio.opentime.TimeRange(at(0), at(int(video["frame_count"]))),
    )
    reference.name = name
    people = [str(person["name"]) for person in document["people"]]
    several = len(people) > 1

    def clip(segment: Mapping[str, Any]) -> Any:
        first, last = int(segment["clip_start_frame"]), int(segment["clip_end_frame"])
        return otio.schema.Clip(
            name=appearance_name(str(segment["person"]), segment["index"], several),
            media_reference=copy.deepcopy(reference),
            source_range=otio.opentime.TimeRange(at(first), at(last - first + 1)),
            metadata={
                "facecut": {
                    "person": segment["person"],
                    "appearance": segment["index"],
                    "start_frame": segment["start_frame"],
                    "end_frame": segment["end_frame"],
                    "clip": segment["clip"],
                }
            },
        )

    kinds = [otio.schema.TrackKind.Video]
    if video["has_audio"]:
        kinds.append(otio.schema.TrackKind.Audio)
    tracks = []
    for kind in kinds:
        for number, person in enumerate(people, start=1):
            own = [s for s in document["segments"] if s["person"] == person]
            tracks.append(
                otio.schema.Track(
                    name=f"{kind[0]}{number} {person}" if several else f"{kind[0]}1",
                    kind=kind,
                    children=[clip(s) for s in sorted(own, key=lambda s: s["clip_start_frame"])],
                )
            )
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return otio.schema.Timeline(
        name=stem or "facecut",
        tracks=tracks,
        global_start_time=at(_one_hour(rate)),
        metadata={"facecut": {"source": str(video["path"]), "fps": video["fps_rational"]}},
    )


def timeline_text(document: Mapping[str, Any], name: str) -> str:
    """The text of one of FILES for the document. Raises TimelineError when that format
    cannot hold this video, or its adapter fails: the caller warns and writes the rest."""
    render = {OTIO: _otio_text, FCPXML: _fcpxml_text, FCP7_XML: _fcp7_text, EDL: _edl_text}
    video = document["video"]
    rate = timeline_rate(Fraction(video["fps_rational"]))
    if name in (EDL, FCP7_XML) and not otio.opentime.RationalTime.is_valid_timecode_rate(
        float(rate)
    ):
        raise TimelineError(
            f"{name} not written: SMPTE timecode has no {float(rate):g} fps; "
            f"open {OTIO} or segments.csv instead"
        )
    if name == EDL and len(document["segments"]) > EDL_EVENTS:
        raise TimelineError(
            f"{name} not written: CMX 3600 holds {EDL_EVENTS} events and this video has "
            f"{len(document['segments'])} appearances; open {FCP7_XML} instead"
        )
    if name == FCPXML and rate not in FCPX_RATES:
        smpte = otio.opentime.RationalTime.is_valid_timecode_rate(float(rate))
        instead = FCP7_XML if smpte else OTIO
        raise TimelineError(
            f"{name} not written: Final Cut Pro X has no {float(rate):g} fps timeline; "
            f"open {instead} instead"
        )
    try:
        return render[name](timeline(document), document, rate)
    except Exception as error:  # an adapter's bug costs one file, not the run
        detail = str(error).strip().splitlines()[:1] or [""]
        raise TimelineError(
            f"{name} not written: OpenTimelineIO failed ({type(error).__name__}: "
            f"{detail[0]}); the other timelines and segments.csv hold the same appearances"
        ) from error


# ---------------------------------------------------------------- the four formats


def _one_track(reel: Any) -> Any:
    """Make the reel's video tracks one, person after person (the document's order),
    for the formats that hold one sequence of events; returns that track."""
    clips = [
        copy.deepcopy(clip)
        for track in reel.tracks
        if track.kind == otio.schema.TrackKind.Video
        for clip in track
    ]
    events = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video, children=clips)
    del reel.tracks[:]
    reel.tracks.append(events)
    return events


def _otio_text(reel: Any, document: Mapping[str, Any], rate: Fraction) -> str:
    return str(otio.adapters.write_to_string(reel, "otio_json")) + "\n"


def _edl_text(reel: Any, document: Mapping[str, Any], rate: Fraction) -> str:
    """CMX 3600 through the cmx_3600 adapter, fixed where it falls short:

    - reel AX on every event (a file has no tape reel: what Premiere and Resolve write),
      and FROM CLIP NAME the source's file name, which editors relink by. The adapter's
      own reel is the file name cut to 8 characters with its spaces kept, which splits
      the event line's fields for any other reader; "appearance N" moves to a comment.
    - an FCM line (the adapter writes none): DROP FRAME at 29.97 and 59.94.
    - record from 01:00:00:00: the adapter starts the record side at zero whatever the
      timeline's start, so a leading gap (which it writes as no event) shifts it.
    - AA/V: the adapter writes the first track only, as V; with sound the events carry
      the audio too, as the cut clips do.
    - one track: the people's video tracks, one after another, become its events, each
      naming its person in a comment when several are searched.
    """
    video = document["video"]
    several = len(document["people"]) > 1
    events = _one_track(reel)
    for clip in events:
        clip.metadata["cmx_3600"] = {"reel": "AX", "comments": _edl_comments(clip, several)}
        clip.name = _file_name(str(video["path"]))
    events.insert(0, otio.schema.Gap(duration=reel.global_start_time))
    reel.name = " ".join(reel.name.split())[:EDL_TITLE_LENGTH]
    text = str(otio.adapters.write_to_string(reel, "cmx_3600", rate=float(rate), style="avid"))
    _, drop = timecode_rate(Fraction(video["fps_rational"]))
    lines = text.split("\n")
    if not lines[0].startswith("TITLE:"):
        raise ValueError("the EDL adapter wrote no TITLE line")
    lines.insert(1, f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}")
    if video["has_audio"]:
        event = re.compile(r"^(\d{3}  AX {7})V {4}( C )")
        lines = [event.sub(r"\1AA/V \2", line) for line in lines]
    return "\n".join(lines)


def _edl_comments(clip: Any, several: bool) -> list[str]:
    facecut = clip.metadata["facecut"]
    person = [f"FACECUT PERSON: {facecut['person']}"] if several else []
    comments = [*person, f"FACECUT APPEARANCE: {facecut['appearance']}"]
    if facecut["clip"]:
        comments.append(f"FACECUT CLIP: {facecut['clip']}")
    return comments


def _fcp7_text(reel: Any, document: Mapping[str, Any], rate: Fraction) -> str:
    """FCP 7 XML through the fcp_xml adapter. Its metadata says what the adapter cannot
    infer: drop-frame display of the timecodes, the sequence's frame size, and that the
    audio clip items take the file's audio (without a sourcetrack the adapter writes
    them as back-references to the video clip items, which no editor reads as sound)."""
    video = document["video"]
    _, drop = timecode_rate(Fraction(video["fps_rational"]))
    timecode = {"timecode": {"displayformat": "DF" if drop else "NDF"}}
    size = {"width": str(video["width"]), "height": str(video["height"])}
    reel.metadata["fcp_xml"] = {
        **timecode,
        "media": {"video": {"format": {"samplecharacteristics": size}}},
    }
    for track in reel.tracks:
        for clip in track:
            clip.media_reference.metadata["fcp_xml"] = timecode
            if track.kind == otio.schema.TrackKind.Audio:
                clip.metadata["fcp_xml"] = {
                    "sourcetrack": {"mediatype": "audio", "trackindex": "1"}
                }
    text = str(otio.adapters.write_to_string(reel, "fcp_xml"))
    # the declaration and DOCTYPE that Premiere and FCP 7 write (the adapter's has neither
    # the encoding nor the DOCTYPE, which FCP 7 looks for)
    declaration = '<?xml version="1.0" ?>\n'
    if not text.startswith(declaration):
        raise ValueError("the FCP 7 XML adapter wrote an unexpected declaration")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + text[len(declaration) :]


def _fcpxml_text(reel: Any, document: Mapping[str, Any], rate: Fraction) -> str:
    """One primary storyline, every person's appearances in turn (see the module's
    docstring), whose asset-clips carry the sound too (see _FcpxWriter)."""
    _one_track(reel)
    return str(_FcpxWriter(reel, document["video"], rate).to_xml())


class _FcpxWriter(fcpx_xml.FcpxOtio):  # type: ignore[misc]
    """otio-fcpx-xml-adapter 1.0.0's writer, with what it gets wrong for our timelines
    overridden (its private methods: the package is pinned exactly):

    - frame durations of 23.976, 29.97 and 59.94 (its table misses them);
    - the format's size from the document, where it runs ffprobe on the media (a child
      process from a pure step) and names the format from the answer;
    - one asset named after the file, where it names it after the first clip and adds
      an event clip of the whole video per clip name ("appearance 2" would be the
      whole source in the browser);
    - asset-clips in the spine, FCP X's own form for a file's picture and sound
      together, where it writes a clip with the video only (its audio tracks become
      connected clips wrapping gaps, not what FCP X makes);
    - the sequence's start (01:00:00:00) and timecode format (DF/NDF).
    """

    def __init__(self, reel: Any, video: Mapping[str, Any], rate: Fraction) -> None:
        self._video = video
        # the one format of the timeline: exact (1001/30000s), where the adapter's table
        # is keyed by int(rate) and 29.97 finds nothing (an empty frameDuration)
        self._frame_duration = f"{rate.denominator}/{rate.numerator}s"
        self._drop = timecode_rate(rate)[1]
        super().__init__(reel)

    def _format_by_frame_rate(self, frame_rate: float) -> ElementTree.Element | None:
        # every clip is at the timeline's rate: one format serves them all
        found: ElementTree.Element | None = self.resource_element.find("./format")
        return found

    def _find_or_create_format_from(self, clip: Any) -> ElementTree.Element:
        found = self._format_by_frame_rate(0)
        if found is not None:
            return found
        return ElementTree.SubElement(
            self.resource_element,
            "format",
            {
                "id": self._resource_id_generator(),
                "frameDuration": self._frame_duration,
                "width": str(self._video["width"]),
                "height": str(self._video["height"]),
            },
        )

    def _create_asset_clip_element(
        self, clip: Any, format_element: ElementTree.Element, resource_id: str
    ) -> None:
        return None  # no event clip per appearance holding the whole source

    def _create_asset_element(
        self, clip: Any, format_element: ElementTree.Element
    ) -> ElementTree.Element:
        asset: ElementTree.Element = super()._create_asset_element(clip, format_element)
        asset.set("name", _file_name(str(self._video["path"])))
        if self._video["has_audio"]:
            asset.set("audioSources", str(self._video.get("audio_streams") or 1))
        return asset

    def _add_asset(self, clip: Any, compound_only: bool = False) -> str:
        """The asset has the file's picture and its sound, whichever track uses it."""
        asset_id: str = super()._add_asset(clip, compound_only)
        asset = self._asset_by_id(asset_id)
        asset.set("hasVideo", "1")
        asset.set("hasAudio", "1" if self._video["has_audio"] else "0")
        return asset_id

    def _element_for_clip(
        self, item: Any, asset_id: str, duration: str, lane: Any
    ) -> ElementTree.Element:
        element: ElementTree.Element = super()._element_for_clip(item, asset_id, duration, lane)
        element.tag = "asset-clip"
        element.set("ref", asset_id)
        element.set("start", fcpx_xml.from_rational_time(item.source_range.start_time))
        for child in list(element):
            element.remove(child)
        return element

    def _stack_to_sequence(self, stack: Any, compound_clip: bool = False) -> ElementTree.Element:
        sequence: ElementTree.Element = super()._stack_to_sequence(stack, compound_clip)
        start = self.otio_timeline.global_start_time
        sequence.set("tcStart", fcpx_xml.from_rational_time(start))
        sequence.set("tcFormat", "DF" if self._drop else "NDF")
        return sequence
