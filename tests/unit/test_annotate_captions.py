"""Annotated captions stay inside the frame, whatever edge or corner the box touches."""

from __future__ import annotations

import numpy as np
import pytest

from videopipe.adapters.annotate import draw_result
from videopipe.adapters.plugins import boxes
from videopipe.adapters.plugins.boxes import caption_box

WIDTH, HEIGHT = 160, 120
GREY = 128

# Boxes (x1, y1, x2, y2) at each edge and corner, and the whole frame.
EDGES = {
    "top": [60, 0, 100, 30],
    "bottom": [60, 90, 100, 120],
    "left": [0, 50, 30, 80],
    "right": [130, 50, 160, 80],
    "top-left": [0, 0, 30, 30],
    "top-right": [130, 0, 160, 30],
    "bottom-left": [0, 90, 30, 120],
    "bottom-right": [130, 90, 160, 120],
    "whole frame": [0, 0, 160, 120],
}


@pytest.mark.parametrize("where", list(EDGES))
def test_the_caption_box_is_inside_the_frame_and_on_the_box(where: str) -> None:
    box = EDGES[where]
    left, top, right, bottom = caption_box(box, (70, 16), (WIDTH, HEIGHT))
    assert (right - left, bottom - top) == (70, 16)  # whole: nothing cut off
    assert 0 <= left < right <= WIDTH
    assert 0 <= top < bottom <= HEIGHT
    # Against the box's top edge: outside above it when there is room, else inside.
    assert bottom == box[1] if box[1] >= 16 else top == box[1]
    assert left == min(box[0], WIDTH - 70)


def test_a_box_with_room_above_keeps_its_caption_above() -> None:
    assert caption_box([40, 50, 80, 90], (30, 12), (WIDTH, HEIGHT)) == (40, 38, 70, 50)


def test_a_caption_larger_than_the_frame_is_cut_to_it() -> None:
    assert caption_box([5, 5, 10, 10], (500, 300), (WIDTH, HEIGHT)) == (0, 0, WIDTH, HEIGHT)


def _text_pixels(box: list[int], *, pillow: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    """Dark pixels (the caption's letters) in a grey frame with ``box`` drawn on it."""
    if pillow:
        monkeypatch.setattr(boxes, "_opencv", lambda: None)
    image = np.full((HEIGHT, WIDTH, 3), GREY, np.uint8)
    result = {"objects": [{"box": box, "label": "person", "score": 0.97}]}
    drawn = draw_result(image, result)
    return int(np.count_nonzero(drawn.max(axis=2) < 64))


@pytest.mark.parametrize("pillow", [False, True], ids=["opencv", "pillow"])
@pytest.mark.parametrize("where", list(EDGES))
def test_every_letter_of_a_caption_at_an_edge_is_drawn(
    where: str, pillow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = _text_pixels([60, 50, 100, 80], pillow=pillow, monkeypatch=monkeypatch)
    assert inside > 20
    assert _text_pixels(EDGES[where], pillow=pillow, monkeypatch=monkeypatch) == inside
