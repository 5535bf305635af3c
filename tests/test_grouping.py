"""Grouping face tracks into people (facecut.grouping, pure): synthetic embeddings
whose true people are known, and the clustering checked against brute force."""
from __future__ import annotations

import numpy as np
import pytest

from facecut.embeddings import distances
from facecut.grouping import TrackSample, average_linkage, group, track_distances


def _people(rng: np.random.Generator, people: int, tracks_each: int, spread: float,
            apart: float = 1.0, dims: int = 128) -> list[TrackSample]:
    """`people` centres `apart` from the origin in random directions; each person's
    tracks have 2 embeddings within `spread` (per dimension, Gaussian) of the centre."""
    centres = rng.normal(size=(people, dims))
    centres *= apart / np.linalg.norm(centres, axis=1, keepdims=True)
    return [TrackSample((p, t), centres[p] + rng.normal(scale=spread, size=(2, dims)), 30, 80)
            for p in range(people) for t in range(tracks_each)]


def _greedy(matrix: np.ndarray, sizes: np.ndarray, stop: float) -> list[set[int]]:
    """Average linkage the slow, obvious way: merge the closest pair of groups while
    their mean embedding distance is at most `stop`."""
    groups = [{i} for i in range(len(matrix))]
    def between(a: set[int], b: set[int]) -> float:
        total = sum(matrix[i, j] * sizes[i] * sizes[j] for i in a for j in b)
        return total / (sum(sizes[i] for i in a) * sum(sizes[j] for j in b))
    while len(groups) > 1:
        d, a, b = min((between(groups[a], groups[b]), a, b)
                      for a in range(len(groups)) for b in range(a + 1, len(groups)))
        if d > stop:
            break
        groups[a] |= groups.pop(b)
    return groups


def test_track_distance_is_the_mean_of_embedding_distances():
    rng = np.random.default_rng(1)
    tracks = [TrackSample(i, rng.normal(size=(k, 8)), 10, 50) for i, k in enumerate((1, 2, 3))]
    for metric in ("euclidean", "cosine"):
        matrix = track_distances(tracks, metric)
        for i in range(3):
            for j in range(3):
                expected = 0.0 if i == j else np.mean(
                    [distances(tracks[j].embeddings, e, metric) for e in tracks[i].embeddings])
                assert matrix[i, j] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("stop", [0.3, 0.8, 1.2])
def test_nearest_neighbour_chain_gives_brute_force_average_linkage(seed, stop):
    rng = np.random.default_rng(seed)
    tracks = [TrackSample(i, rng.normal(scale=0.3, size=(int(rng.integers(1, 4)), 6)), 10, 50)
              for i in range(14)]
    matrix = track_distances(tracks, "euclidean")
    sizes = np.array([len(t.embeddings) for t in tracks])
    found = group(tracks, "euclidean", stop)
    expected = _greedy(matrix, sizes, stop)
    assert sorted(sorted(p.keys) for p in found.people) == sorted(sorted(g) for g in expected)
    merges = average_linkage(matrix, sizes)
    assert len(merges) == len(tracks) - 1


@pytest.mark.parametrize("people, tracks_each, spread, expected", [
    (3, 5, 0.01, 3),   # tight people, well apart: one group each
    (7, 4, 0.02, 7),
    (1, 9, 0.02, 1),   # one person seen nine times
])
def test_people_well_apart_come_out_whole_and_pure(people, tracks_each, spread, expected):
    rng = np.random.default_rng(people)
    found = group(_people(rng, people, tracks_each, spread), "euclidean", 0.5)
    assert len(found.people) == expected
    for person in found.people:
        assert len({key[0] for key in person.keys}) == 1  # pure
    assert sorted(len(p.keys) for p in found.people) == [tracks_each] * expected  # whole


def test_a_blurry_bridge_does_not_chain_two_people():
    """Single linkage would join A and B through one track halfway between them;
    average linkage keeps them apart (the bridge joins one side)."""
    rng = np.random.default_rng(3)
    a, b = np.zeros(16), np.zeros(16)
    a[0], b[0] = -0.35, 0.35
    tracks = [TrackSample(("A", i), a + rng.normal(scale=0.01, size=(2, 16)), 30, 80)
              for i in range(6)]
    tracks += [TrackSample(("B", i), b + rng.normal(scale=0.01, size=(2, 16)), 30, 80)
               for i in range(6)]
    tracks.append(TrackSample(("bridge", 0), np.zeros((2, 16)), 30, 80))
    found = group(tracks, "euclidean", 0.45)
    named = [{key[0] for key in p.keys} - {"bridge"} for p in found.people]
    assert sorted(map(sorted, named)) == [["A"], ["B"]]


def test_short_or_small_tracks_are_left_unsorted_not_guessed():
    rng = np.random.default_rng(4)
    tracks = _people(rng, 2, 3, 0.01)
    tracks.append(TrackSample("two frames", tracks[0].embeddings, 2, 80))
    tracks.append(TrackSample("tiny face", tracks[0].embeddings, 30, 12))
    found = group(tracks, "euclidean", 0.5, min_frames=5, min_face=24)
    assert set(found.unsorted) == {"two frames", "tiny face"}
    assert all("two frames" not in p.keys and "tiny face" not in p.keys for p in found.people)
    assert len(found.people) == 2


def test_people_come_most_screen_time_first():
    rng = np.random.default_rng(5)
    tracks = _people(rng, 2, 1, 0.01)
    tracks = [TrackSample(tracks[0].key, tracks[0].embeddings, 10, 80),
              TrackSample(tracks[1].key, tracks[1].embeddings, 90, 80)]
    found = group(tracks, "euclidean", 0.5)
    assert [p.frames for p in found.people] == [90, 10]


def test_nothing_to_group():
    assert group([], "euclidean", 0.5).people == ()


def test_people_come_longest_on_screen_first_not_most_analysed():
    """A is on screen 100 frames, analysed on 10 (a sampled pass); B 50 frames, analysed
    on 20 (refinement analysed its edges densely): A comes first."""
    a, b = np.ones(4), -np.ones(4)
    tracks = [TrackSample("A", np.vstack([a, a]), 10, 80, span=100),
              TrackSample("B", np.vstack([b, b]), 20, 80, span=50)]
    grouping = group(tracks, "euclidean", 0.5)
    assert [(p.keys, p.frames, p.span) for p in grouping.people] == [
        (("A",), 10, 100), (("B",), 20, 50)]
