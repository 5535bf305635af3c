"""Distances between face embeddings (pure: numpy only), for the scan's workers and
the analysis alike, without loading any face model."""

from __future__ import annotations

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
