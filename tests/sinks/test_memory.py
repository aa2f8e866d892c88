"""A Parquet sink's memory stays flat however many results it takes."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq

from videopipe.adapters.sinks import ParquetSink
from videopipe.domain.model import FrameResult


def _peak(path: Path, frames: int) -> int:
    """Peak Python heap (tracemalloc) while writing ``frames`` and committing the file."""
    tracemalloc.start()
    try:
        sink = ParquetSink(str(path), rows_per_part=5_000)
        for index in range(frames):
            moving = index % 3 == 0
            result = {"motion": {"score": index / frames, "moving": moving, "box": [0, 0, 8, 8]}}
            sink.write("long.mp4", FrameResult(index, index / 25, result))
        sink.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_memory_is_flat_over_200k_results(tmp_path: Path):
    _peak(tmp_path / "warm.parquet", 2_000)  # one-time imports and caches
    small = _peak(tmp_path / "small.parquet", 20_000)
    large = _peak(tmp_path / "large.parquet", 200_000)
    assert pq.ParquetFile(tmp_path / "large.parquet").metadata.num_rows == 200_000
    # 10x the results, the same memory: the rows of one part (5000) are all that is held
    # (holding every row would take over 100 MB here)
    assert large < 1.25 * small + (1 << 20), (small, large)
    assert large < 16 << 20
