"""The boundary evidence on hand-made frame pairs: what is a cut and what is not."""

from __future__ import annotations

import numpy as np

from tests.scenes.evalset import _fill, photo
from videopipe.adapters.plugins.shot_evidence import hard_cut
from videopipe.adapters.plugins.shot_features import signature

WIDTH, HEIGHT = 320, 180


def picture(name: str) -> np.ndarray:
    return _fill(photo(name), WIDTH, HEIGHT).copy()


def judged(*frames: np.ndarray) -> str | None:
    return hard_cut([signature(frame) for frame in frames], threshold=0.4).kind


def test_a_cut_between_two_shots_under_the_same_plain_sky_is_a_cut():
    first, second = picture("fruits.jpg"), picture("baboon.jpg")
    for image in (first, second):
        image[: HEIGHT * 45 // 100] = (150, 170, 200)  # the same sky over both
    assert judged(first, second) == "cut"


def test_a_band_lost_in_decoding_is_no_cut():
    before = picture("building.jpg")
    damaged = before.copy()
    damaged[HEIGHT * 2 // 3 :] = 0
    assert judged(before, damaged) is None
    assert judged(before, damaged, before) is None  # and back: an interruption


def test_a_camera_move_is_no_cut_and_a_new_picture_is():
    wide = _fill(photo("leuvenA.jpg"), WIDTH * 2, HEIGHT)
    assert judged(wide[:, :WIDTH], wide[:, 24 : 24 + WIDTH]) is None  # a 24 px pan
    assert judged(wide[:, :WIDTH], picture("messi5.jpg")) == "cut"


def test_a_flash_is_no_cut_a_flash_start_waits_for_the_next_frame():
    before = picture("home.jpg")
    lit = np.clip(before.astype(np.float32) * 1.8 + 60, 0, 255).astype(np.uint8)
    assert judged(before, lit) is None
    assert judged(before, lit, before) is None
