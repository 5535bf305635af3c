"""Group face tracks into people by their embeddings, with no photo: average-linkage
agglomerative clustering, stopped at a distance (pure: no I/O).

Each track brings a few embeddings (its first and last, per chunk it spans). Two
groups' distance is the mean of the distances between all their embeddings (average
linkage), so one blurred frame can neither chain two people together (as single
linkage would) nor keep one person apart (as complete linkage would). The merges are
found by the nearest-neighbour chain algorithm: O(n^2) time and memory for n tracks,
the same result as merging the closest pair again and again.

Tracks too short or too small to place go to no person: they are returned as
unsorted, never guessed into someone.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrackSample:
    """One face track, for grouping: `key` names it (e.g. video and track id),
    `embeddings` is (k, d), `frames` the analysed frames it covers, `face_width`
    its typical face width in pixels, `span` the video frames from its first to its
    last (0: as many as `frames`): what orders the people found."""

    key: Hashable
    embeddings: np.ndarray
    frames: int
    face_width: int
    span: int = 0


@dataclass(frozen=True)
class Person:
    """Tracks grouped as one person: `keys` in the order given; `frames` and `span`
    their tracks' sums."""

    keys: tuple[Hashable, ...]
    frames: int
    span: int = 0


@dataclass(frozen=True)
class Grouping:
    people: tuple[Person, ...]  # the longest on screen first (span, then frames)
    unsorted: tuple[Hashable, ...]  # too short or too small to place


def placeable(track: TrackSample, min_frames: int, min_face: int) -> bool:
    return track.frames >= min_frames and track.face_width >= min_face and len(track.embeddings) > 0


def track_distances(tracks: Sequence[TrackSample], metric: str) -> np.ndarray:
    """(n, n): the mean distance between every embedding of one track and every
    embedding of another (0 on the diagonal). One track's rows at a time against all
    embeddings: O(n) memory beyond the result, however many tracks."""
    stacked = np.concatenate([t.embeddings for t in tracks]).astype(np.float64)
    counts = np.array([len(t.embeddings) for t in tracks])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if metric != "euclidean":
        stacked = stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)
    squares = (stacked**2).sum(axis=1)
    out = np.zeros((len(tracks), len(tracks)))
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        rows = stacked[start : start + count]
        if metric == "euclidean":
            sq = squares[start : start + count, None] + squares[None, :] - 2 * rows @ stacked.T
            block = np.sqrt(np.maximum(sq, 0.0))
        else:
            block = 1.0 - rows @ stacked.T
        out[i] = np.add.reduceat(block, starts, axis=1).sum(axis=0) / (count * counts)
    np.fill_diagonal(out, 0.0)
    return out


def average_linkage(matrix: np.ndarray, sizes: np.ndarray) -> list[tuple[int, int, float]]:
    """Every merge of average-linkage clustering over `matrix` (n, n), whose items
    weigh `sizes` (embeddings per track), as (a, b, distance); a merged group keeps
    the smaller of its two indices. Nearest-neighbour chain: O(n^2)."""
    count = len(matrix)
    dist = matrix.astype(np.float64, copy=True)
    np.fill_diagonal(dist, np.inf)
    weight = sizes.astype(np.float64, copy=True)
    active = np.ones(count, dtype=bool)
    merges: list[tuple[int, int, float]] = []
    chain: list[int] = []
    while active.sum() > 1:
        if not chain:
            chain.append(int(np.flatnonzero(active)[0]))
        top = chain[-1]
        row = np.where(active, dist[top], np.inf)
        row[top] = np.inf
        nearest = int(np.argmin(row))
        # ties go to the one already below on the chain, so the chain always ends
        if len(chain) > 1 and row[chain[-2]] <= row[nearest]:
            nearest = chain[-2]
        if len(chain) > 1 and nearest == chain[-2]:
            chain.pop()
            chain.pop()
            a, b = sorted((top, nearest))
            merges.append((a, b, float(dist[a, b])))
            # Lance-Williams update for average linkage
            merged = (weight[a] * dist[a] + weight[b] * dist[b]) / (weight[a] + weight[b])
            dist[a] = merged
            dist[:, a] = merged
            dist[a, a] = np.inf
            weight[a] += weight[b]
            active[b] = False
            dist[b] = np.inf
            dist[:, b] = np.inf
        else:
            chain.append(nearest)
    return merges


def group(
    tracks: Sequence[TrackSample],
    metric: str,
    link_distance: float,
    min_frames: int = 1,
    min_face: int = 0,
) -> Grouping:
    """People from tracks: every placeable track in exactly one person, tracks
    joined while their groups' average distance is at most `link_distance`."""
    kept = [t for t in tracks if placeable(t, min_frames, min_face)]
    unsorted = tuple(t.key for t in tracks if not placeable(t, min_frames, min_face))
    if not kept:
        return Grouping((), unsorted)
    merges = average_linkage(
        track_distances(kept, metric), np.array([len(t.embeddings) for t in kept])
    )
    parent = list(range(len(kept)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, height in merges:
        if height <= link_distance:
            parent[root(b)] = root(a)
    members: dict[int, list[int]] = {}
    for i in range(len(kept)):
        members.setdefault(root(i), []).append(i)
    people = [
        Person(
            tuple(kept[i].key for i in items),
            sum(kept[i].frames for i in items),
            sum(kept[i].span or kept[i].frames for i in items),
        )
        for items in members.values()
    ]
    # by time on screen: the analysed frames alone would count the frames refinement
    # added around edges, and a sampled pass's frames weigh `interval` each
    people.sort(key=lambda person: (-person.span, -person.frames, str(person.keys[0])))
    return Grouping(tuple(people), unsorted)
