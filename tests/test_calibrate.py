"""--calibrate's pure core: the suggested split and the text histogram."""
from __future__ import annotations

import pytest

from facecut.calibrate import histogram, suggest_threshold


@pytest.mark.parametrize("distances, threshold, below, clear", [
    # the person near 0.3, others near 0.75: split halfway between the groups' edges
    ([0.28, 0.30, 0.31, 0.35, 0.70, 0.74, 0.80, 0.81], 0.525, 4, True),
    # uneven groups: many frames of the person, two of someone else
    ([0.30] * 20 + [0.32] * 20 + [0.66, 0.70], 0.49, 40, True),
    # one blob: a split is still computed, but it is not clear
    ([0.50, 0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59], None, None, False),
])
def test_suggest_threshold(distances, threshold, below, clear):
    split = suggest_threshold(distances)
    assert split is not None
    if threshold is not None:
        assert split.threshold == pytest.approx(threshold)
        assert split.below == below and split.above == len(distances) - below
    assert split.clear is clear


@pytest.mark.parametrize("distances", [[], [0.4], [0.4, 0.4, 0.4]])
def test_no_split_without_two_values(distances):
    assert suggest_threshold(distances) is None


def test_histogram_bins_and_marks_the_threshold():
    lines = histogram([0.31, 0.32, 0.33, 0.34, 0.71], bin_width=0.1, bar=4, threshold=0.5)
    assert lines == [
        " 0.30-0.40 |####      4",
        " 0.40-0.50 |          0",
        " 0.50-0.60 |          0 <- threshold",
        " 0.60-0.70 |          0",
        " 0.70-0.80 |#         1",
    ]
    assert histogram([]) == []
