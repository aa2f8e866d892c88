"""The ``index`` content: frame ``i`` shows ``i`` in blocks over three colour panels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

INDEX_BITS = 10
PANEL_COLOURS: tuple[tuple[int, int, int], ...] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def frame_pattern(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The RGB image of frame ``index``: index band on top, colour panels below."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    band = max(1, height // 3)
    for bit in range(INDEX_BITS):
        if (index >> bit) & 1:
            x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
            image[:band, x0:x1] = 255
    for panel, colour in enumerate(PANEL_COLOURS):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        image[band:, x0:x1] = colour
    return image


def read_frame_index(image: npt.NDArray[np.uint8]) -> int:
    """The index :func:`frame_pattern` drew into ``image`` (tolerates lossy coding)."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    index = 0
    for bit in range(INDEX_BITS):
        x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
        margin_x, margin_y = max(0, (x1 - x0) // 4), max(0, band // 4)
        cell = image[margin_y : band - margin_y, x0 + margin_x : x1 - margin_x]
        if cell.size and float(cell.mean()) > 127:
            index |= 1 << bit
    return index


def panel_colours(image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int]]:
    """The mean colour of each of the three panels, rounded."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    colours = []
    for panel in range(3):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        margin = max(1, (x1 - x0) // 4)
        cell = image[
            band + (height - band) // 4 : height - (height - band) // 4, x0 + margin : x1 - margin
        ]
        mean = cell.reshape(-1, 3).mean(axis=0)
        colours.append((round(mean[0]), round(mean[1]), round(mean[2])))
    return colours
