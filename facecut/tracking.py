"""Face tracks: link each frame's faces to the previous frame's, decide identity per
track, and embed only when a track needs it. Pure logic, no I/O.

Why: a head that turns or blurs for a few frames stops matching the reference on
its own, yet it is obviously the same face as a moment ago. Deciding identity per
track (from the track's best-matching faces) and labelling every frame of a
matching track recovers those frames; embedding only at a track's start, every few
frames, or when the face changes size saves most of the embedding work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from .segments import Box, FrameFaces

# Tracks are numbered per chunk; this many ids are reserved per chunk so ids stay
# unique across the whole video.
IDS_PER_CHUNK = 1_000_000


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Track:
    id: int
    box: Box
    frame: int
    embedded_frame: int
    embedded_area: int
    # the verdicts of its last two embeddings (ScanSettings.verdict): -(p + 1) clearly
    # person p, +1 clearly nobody,
    # 0 near the threshold
    verdicts: tuple[int, int] = (0, 0)

    @property
    def settled(self) -> bool:
        """Two embeddings in a row clearly on the same side of the threshold."""
        return self.verdicts[0] == self.verdicts[1] != 0


@dataclass(frozen=True)
class Assignment:
    """The track a face joined, and whether it must be embedded now."""

    track: int
    embed: bool


@dataclass
class Tracker:
    """Links faces frame to frame within one chunk.

    A face continues the track whose last box overlaps it most (IoU >= min_iou,
    seen at most `max_gap` frames ago); a scene cut ends every track. A face is
    embedded when its track starts, when `embed_every` frames have passed since the
    track's last embedding (`settled_embed_every` once its identity is settled: two
    embeddings in a row clearly on one side of the threshold), or when its area
    changed by more than `area_change`.
    """

    first_id: int = 0
    min_iou: float = 0.3
    max_gap: int = 15
    embed_every: int = 5
    settled_embed_every: int = 5
    area_change: float = 0.3
    _active: list[_Track] = field(default_factory=list)
    _next: int = 0

    def step(self, frame: int, boxes: Sequence[Box], cut: bool = False) -> list[Assignment]:
        if cut:
            self._active = []
        self._active = [t for t in self._active if frame - t.frame <= self.max_gap]
        pairs = sorted(
            (
                (iou(box, track.box), i, j)
                for i, box in enumerate(boxes)
                for j, track in enumerate(self._active)
            ),
            reverse=True,
        )
        taken_faces: set[int] = set()
        taken_tracks: set[int] = set()
        chosen: dict[int, _Track] = {}
        for overlap, i, j in pairs:
            if overlap < self.min_iou:
                break
            if i in taken_faces or j in taken_tracks:
                continue
            taken_faces.add(i)
            taken_tracks.add(j)
            chosen[i] = self._active[j]
        result = []
        for i, box in enumerate(boxes):
            track = chosen.get(i)
            if track is None:
                track = self.start(frame, box)
                result.append(Assignment(track.id, True))
                continue
            changed = abs(box.area - track.embedded_area) > self.area_change * max(
                1, track.embedded_area
            )
            every = self.settled_embed_every if track.settled else self.embed_every
            due = frame - track.embedded_frame >= every
            track.box, track.frame = box, frame
            result.append(Assignment(track.id, changed or due))
        return result

    def live_boxes(self, frame: int) -> list[Box]:
        """Last boxes of the tracks that a face on `frame` could still continue."""
        return [t.box for t in self._active if frame - t.frame <= self.max_gap]

    def start(self, frame: int, box: Box) -> _Track:
        """Begin a new track (also used to split one whose face changed identity)."""
        track = _Track(self.first_id + self._next, box, frame, frame, box.area)
        self._next += 1
        self._active.append(track)
        return track

    def split(self, old: int, frame: int, box: Box) -> int:
        """The face on track `old` turned out to be someone else: end that track
        and start a new one from this face."""
        self._active = [t for t in self._active if t.id != old]
        return self.start(frame, box).id

    def embedded(self, track_id: int, frame: int, box: Box, verdict: int = 0) -> None:
        """The face on `track_id` was embedded on `frame`; `verdict` says how its
        distances fell (ScanSettings.verdict: -(p + 1) clearly person p, +1 clearly
        nobody, 0 near the threshold)."""
        for track in self._active:
            if track.id == track_id:
                track.embedded_frame, track.embedded_area = frame, box.area
                track.verdicts = (track.verdicts[1], verdict)


def join_tracks(
    frames: Sequence[FrameFaces], same_person: Callable[[int, int], bool], min_iou: float = 0.3
) -> dict[int, int]:
    """Join tracks that were cut by a chunk boundary (including the edges of refined
    stretches): a track ending on one analysed frame and a track of another chunk
    starting on the next analysed frame are one track when their boxes overlap
    (paired one to one, best overlap first) and `same_person(a, b)` says their
    embeddings agree. Returns a map from track id to joined id."""
    parent: dict[int, int] = {}

    def root(track: int) -> int:
        while parent.get(track, track) != track:
            track = parent[track]
        return track

    ordered = sorted(frames, key=lambda f: f.frame)
    for before, after in pairwise(ordered):
        pairs = sorted(
            (
                (iou(a.box, b.box), i, j)
                for i, a in enumerate(before.faces)
                for j, b in enumerate(after.faces)
                if a.track >= 0
                and b.track >= 0
                and a.track // IDS_PER_CHUNK != b.track // IDS_PER_CHUNK
            ),
            reverse=True,
        )
        used_before: set[int] = set()
        used_after: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < min_iou:
                break
            if i in used_before or j in used_after:
                continue
            a, b = before.faces[i].track, after.faces[j].track
            if root(a) != root(b) and same_person(a, b):
                parent[root(b)] = root(a)
                used_before.add(i)
                used_after.add(j)
    every = {face.track for f in frames for face in f.faces if face.track >= 0}
    return {track: root(track) for track in every}


def track_distances(
    frames: Iterable[FrameFaces], joined: dict[int, int], best_of: int = 3, person: int = 0
) -> dict[int, float]:
    """A track's distance to a person: the mean of its `best_of` smallest embedded
    distances to them, robust to a single lucky or unlucky frame."""
    found: dict[int, list[float]] = {}
    for result in frames:
        for face in result.faces:
            if face.track >= 0 and face.distances:
                found.setdefault(joined.get(face.track, face.track), []).append(
                    face.distances[person]
                )
    best = {track: sorted(values)[:best_of] for track, values in found.items()}
    return {track: sum(values) / len(values) for track, values in best.items()}
