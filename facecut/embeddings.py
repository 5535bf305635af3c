"""Distances between face embeddings (pure: numpy only), for the scan's workers and
the analysis alike, without loading any face model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


def distances(embeddings: np.ndarray, reference: np.ndarray, metric: str) -> np.ndarray:
    """Distance of each row of `embeddings` to `reference`."""
    if len(embeddings) == 0:
        return np.zeros(0)
    found: np.ndarray
    if metric == "euclidean":
        found = np.linalg.norm(embeddings - reference, axis=1)
    else:
        norms = np.linalg.norm(embeddings, axis=1) * np.linalg.norm(reference)
        found = 1.0 - (embeddings @ reference) / np.maximum(norms, 1e-12)
    return found


def distance(a: np.ndarray, b: np.ndarray, metric: str) -> float:
    """Distance between two embeddings."""
    return float(distances(a[None], b, metric)[0])


@dataclass(frozen=True, eq=False)
class Gallery:
    """The reference photos' embeddings (one row each) and whose each one is: what a
    scan's workers measure every embedded face against."""

    embeddings: np.ndarray
    owners: tuple[int, ...]  # the person (index into Config.people) of each row

    @property
    def people(self) -> int:
        return max(self.owners) + 1 if self.owners else 0

    def distances(self, embedding: np.ndarray, metric: str) -> tuple[float, ...]:
        """The face's distance to each person: to the closest of their photos."""
        if not self.owners:
            return ()
        row = distances(self.embeddings, embedding, metric)
        nearest = [float("inf")] * self.people
        for owner, value in zip(self.owners, row.tolist(), strict=True):
            nearest[owner] = min(nearest[owner], value)
        return tuple(nearest)

    def digest(self) -> bytes:
        """Identifies the gallery's contents (a cluster worker keeps one loaded)."""
        hashed = hashlib.sha256(np.ascontiguousarray(self.embeddings).tobytes())
        hashed.update(repr(self.owners).encode())
        return hashed.digest()


NO_GALLERY = Gallery(np.zeros((0, 0)), ())
