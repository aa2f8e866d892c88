"""Precision, recall and F1 of detected shot boundaries against the evaluation set's truth.

A detection (the first frame of a new shot) matches a boundary when it falls in the
boundary's span widened by ``tolerance`` frames each side: ``[start - tol, end + tol]``
(a hard cut's span is its one frame; a dissolve's or a fade's runs from its first
changed frame to the first frame of the new shot). Each boundary matches at most one
detection and each detection at most one boundary, nearest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.scenes.evalset import Boundary


@dataclass(frozen=True)
class Score:
    """Counts and rates of one comparison."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """Detections that are boundaries."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Boundaries detected."""
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


def match(
    detections: Iterable[int], truth: Sequence[Boundary], tolerance: int = 1
) -> tuple[Score, list[Boundary], list[int]]:
    """The score, the boundaries missed and the detections matching none."""
    found = sorted(set(detections))
    pairs = sorted(
        (_gap(frame, boundary), number, index)
        for index, frame in enumerate(found)
        for number, boundary in enumerate(truth)
        if _gap(frame, boundary) <= tolerance
    )
    used_truth: set[int] = set()
    used_found: set[int] = set()
    for _, number, index in pairs:
        if number not in used_truth and index not in used_found:
            used_truth.add(number)
            used_found.add(index)
    missed = [boundary for number, boundary in enumerate(truth) if number not in used_truth]
    extra = [frame for index, frame in enumerate(found) if index not in used_found]
    return Score(len(used_found), len(extra), len(missed)), missed, extra


def _gap(frame: int, boundary: Boundary) -> int:
    """How many frames ``frame`` lies outside the boundary's span (0: inside)."""
    return max(boundary.start - frame, frame - boundary.end, 0)
