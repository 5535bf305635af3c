"""The people in a video found with no photo (pure: no I/O).

The scan records every face track: its faces per analysed frame and, per chunk it
spans, its first and last embedding. Joined across chunk boundaries (as the search by
photo joins them), each track becomes a `TrackSample`, and grouping.group links the
tracks into people by their embeddings. A person is a set of joined tracks; their
frames are the frames where one of those tracks has a face.

Refinement pins every appearance's edges before anyone is grouped: it needs only the
frames of the tracks that grouping will place (placeable ones), whoever they turn out
to be, so the scan of a video, its cache included, never depends on the grouping, and
one grouping can span every video of a batch.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import DiscoverySettings
from .errors import UsageError
from .grouping import Grouping, TrackSample, group, placeable
from .segments import Face, FrameFaces, Match


@dataclass(frozen=True)
class Track:
    """One joined face track of a video, as grouping and people.json see it."""

    id: int  # the joined track id
    frames: tuple[int, ...]  # the analysed frames it has a face on, in order
    embeddings: np.ndarray  # (k, d): its pieces' first and last embeddings
    face_width: int  # median face width, pixels
    clearest: tuple[int, Face]  # (frame, face): its largest, surest face

    def sample(self, key: Hashable) -> TrackSample:
        span = self.frames[-1] - self.frames[0] + 1 if self.frames else 0
        return TrackSample(key, self.embeddings, len(self.frames), self.face_width, span)


def tracks(
    frames: Sequence[FrameFaces],
    ends: Mapping[int, tuple[np.ndarray, np.ndarray]],
    joined: Mapping[int, int],
) -> list[Track]:
    """Every joined track with a face on some analysed frame, by id."""
    seen: dict[int, list[tuple[int, Face]]] = {}
    for frame in frames:
        for face in frame.faces:
            if face.track >= 0:
                seen.setdefault(joined.get(face.track, face.track), []).append((frame.frame, face))
    pieces: dict[int, list[np.ndarray]] = {}
    for piece, (first, last) in sorted(ends.items()):
        pieces.setdefault(joined.get(piece, piece), []).extend((first, last))
    found = []
    for root, faces in sorted(seen.items()):
        widths = sorted(face.box.w for _, face in faces)
        embeddings = pieces.get(root, [])
        found.append(
            Track(
                id=root,
                frames=tuple(sorted({frame for frame, _ in faces})),
                embeddings=np.vstack(embeddings) if embeddings else np.zeros((0, 0)),
                face_width=widths[len(widths) // 2],
                clearest=max(faces, key=lambda item: (_clarity(item[1]), -item[0])),
            )
        )
    return found


def _clarity(face: Face) -> float:
    """Bigger and surer is clearer: the face a person would pick to show someone."""
    return face.box.area * face.confidence


def placed(found: Sequence[Track], settings: DiscoverySettings) -> list[Track]:
    """The tracks grouping will place in some person (the others stay unsorted)."""
    return [
        track
        for track in found
        if placeable(track.sample(track.id), settings.min_frames, settings.min_face)
    ]


def largest_faces(
    frames: Sequence[FrameFaces], joined: Mapping[int, int], owner: Mapping[int, int]
) -> dict[int, dict[int, Match]]:
    """For each owner (`owner`: joined track id -> whose it is, a person or the track
    itself), the frames one of its tracks has a face on, with the largest such face
    (one pass over the frames, however many tracks)."""
    found: dict[int, dict[int, Match]] = {}
    for frame in frames:
        for face in frame.faces:
            track = joined.get(face.track, face.track)
            if track in owner:
                mine = found.setdefault(owner[track], {})
                kept = mine.get(frame.frame)
                if kept is None or face.box.area > kept.face.box.area:
                    mine[frame.frame] = Match(face, "track", track)
    return found


def check_selected(selected: Sequence[int], count: int) -> None:
    """UsageError, naming the range, if --person asks for someone not found."""
    missing = [number for number in selected if number > count]
    if not missing:
        return
    raise UsageError(
        f"--person {missing[0]}: "
        + (
            f"only {count} people were found (numbered by how much of the video shows "
            f"them, in people.json); pick one of 1-{count}"
            if count
            else "no one was found, so there is no person to cut; drop --person"
        )
    )


def people_of(samples: Sequence[TrackSample], metric: str, settings: DiscoverySettings) -> Grouping:
    """The tracks (of one video or of many, keyed as the caller likes) grouped into
    people, most frames first."""
    return group(samples, metric, settings.link_distance, settings.min_frames, settings.min_face)


PEOPLE_FILE = "people.json"
PHOTOS_PER_PERSON = 3  # faces saved as a reference set, each from another track


def best_faces(found: Mapping[int, Track], members: Sequence[int]) -> list[tuple[int, Face]]:
    """A person's clearest faces, one per track, clearest first, at most
    PHOTOS_PER_PERSON: (frame, face)."""
    faces = [found[track].clearest for track in members if track in found]
    faces.sort(key=lambda item: (-_clarity(item[1]), item[0]))
    return faces[:PHOTOS_PER_PERSON]


def people_document(
    video: Mapping[str, Any],
    people: Sequence[Mapping[str, Any]],
    found: Mapping[int, Track],
    members: Sequence[Sequence[int]],
    ids: Sequence[int],
    unsorted: Sequence[int],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """people.json: the people found with no photo, most on screen first (`people`
    are metadata.json's records of them; `video` its video record)."""
    records = []
    for number, person, tracks_of_person in zip(ids, people, members, strict=True):
        records.append(
            {
                "id": number,
                "name": person["name"],
                # their clearest face, and the folder of their clearest faces (a
                # reference set); null where no photo could be written
                "face": person["face"],
                "photos": None if person["face"] is None else f"people/{person['name']}/",
                "seconds_on_screen": person["seconds_on_screen"],
                "appearances": person["segments"],
                "frames_analysed": sum(
                    len(found[t].frames) for t in tracks_of_person if t in found
                ),
                "tracks": list(tracks_of_person),
            }
        )
    return {
        "schema_version": 1,
        "video": {key: video[key] for key in ("path", "fps_rational", "frame_count", "duration")},
        "settings": dict(settings),
        "people": records,
        "unsorted": {
            "tracks": list(unsorted),
            "frames_analysed": sum(len(found[t].frames) for t in unsorted if t in found),
        },
    }


def batch_people_document(
    videos: Sequence[tuple[str, str, Mapping[str, Any]]],
) -> dict[str, Any]:
    """A batch's people.json: each person found (numbered across the batch) with
    every video they are in; `videos` are (video, results folder, its people.json)."""
    people: dict[int, dict[str, Any]] = {}
    for video, output, document in videos:
        for person in document["people"]:
            entry = people.setdefault(
                person["id"],
                {
                    "id": person["id"],
                    "name": person["name"],
                    "seconds_on_screen": 0.0,
                    "videos": [],
                },
            )
            entry["seconds_on_screen"] = round(
                entry["seconds_on_screen"] + person["seconds_on_screen"], 6
            )
            entry["videos"].append(
                {
                    "video": video,
                    "results": output,
                    "face": None if person["face"] is None else f"{output}/{person['face']}",
                    "appearances": person["appearances"],
                    "seconds_on_screen": person["seconds_on_screen"],
                }
            )
    return {"schema_version": 1, "people": [people[n] for n in sorted(people)]}
