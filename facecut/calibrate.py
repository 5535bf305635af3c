"""--calibrate: how far every face seen is from the reference, and where a threshold
would split them into the person and everybody else (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    threshold: float  # halfway between the two groups' nearest members
    below: int  # faces at or under it
    above: int
    separation: float  # between-group share of the variance, 0..1 (Otsu's eta)

    @property
    def clear(self) -> bool:
        """Two well-separated groups. Evenly spread distances (one blob, no gap)
        score 0.75 on this measure, so clear means well above that."""
        return self.separation >= 0.85


def suggest_threshold(distances: Sequence[float]) -> Split | None:
    """Otsu's split of the distances into a near group (the person) and a far group
    (everybody else): the cut that maximises the variance between the groups. None
    with fewer than two distinct values."""
    values = sorted(distances)
    if len(values) < 2 or values[0] == values[-1]:
        return None
    total = sum(values)
    mean = total / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    best: tuple[float, int] | None = None
    running = 0.0
    for count in range(1, len(values)):
        running += values[count - 1]
        if values[count] == values[count - 1]:
            continue  # never cut between equal values
        low_share = count / len(values)
        low_mean = running / count
        high_mean = (total - running) / (len(values) - count)
        between = low_share * (1 - low_share) * (low_mean - high_mean) ** 2
        if best is None or between > best[0]:
            best = (between, count)
    assert best is not None
    between, count = best
    threshold = (values[count - 1] + values[count]) / 2
    return Split(
        round(threshold, 4), count, len(values) - count, between / variance if variance > 0 else 0.0
    )


def histogram(
    distances: Sequence[float],
    bin_width: float = 0.05,
    bar: int = 40,
    threshold: float | None = None,
) -> list[str]:
    """Text histogram lines, one per bin of `bin_width`, from the smallest to the
    largest distance; `threshold`, if given, is marked on its bin."""
    if not distances:
        return []
    first = int(min(distances) / bin_width)
    last = int(max(distances) / bin_width)
    counts = [0] * (last - first + 1)
    for value in distances:
        counts[int(value / bin_width) - first] += 1
    peak = max(counts)
    lines = []
    for offset, count in enumerate(counts):
        low = (first + offset) * bin_width
        high = low + bin_width
        mark = " <- threshold" if threshold is not None and low <= threshold < high else ""
        length = round(bar * count / peak) if count else 0
        lines.append(f"{low:5.2f}-{high:4.2f} |{'#' * length:<{bar}} {count:>6}{mark}")
    return lines
