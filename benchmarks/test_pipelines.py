"""Pipeline throughput: every shipped pipeline on 1000 frames of 320x240 video.

The real DAG runner (``DagPipelineRunner``) runs each shipped pipeline through the
service on the default decoder; a row per pipeline joins the summary table, with its
ratio to the raw ffmpeg decode of the same video (how much slower than decoding alone
the analysis makes a run). ``yolo_ocr`` needs a detector model: it gets the tiny
content-derived ONNX model the test suite builds (boxes around dark bands), so its
row measures the detector -> crops -> OCR chain, not a real YOLO network.

OCR is slow (the ``text`` row takes minutes per round on two cores), so pipeline rows
run ``VIDEOPIPE_BENCH_PIPELINE_ROUNDS`` rounds (default 1) and no warm-up round.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests.dag.onnx_ocr_models import ink_band_detector

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import VideoFilePipelineService

PIPELINES = PipelineLibrary().ids()


@pytest.fixture(scope="session")
def pipeline_rounds() -> int:
    """Timed rounds per pipeline, from ``VIDEOPIPE_BENCH_PIPELINE_ROUNDS`` (default 1)."""
    return max(1, int(os.environ.get("VIDEOPIPE_BENCH_PIPELINE_ROUNDS", "1")))


@pytest.fixture(scope="session")
def detector_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny ONNX detector ``yolo_ocr`` runs with here."""
    return ink_band_detector(tmp_path_factory.mktemp("bench-model") / "bands.onnx")


@pytest.mark.parametrize("pipeline_id", PIPELINES)
def test_pipeline(
    benchmark: Any,
    record_throughput: Any,
    video_320x240: Any,
    pipeline_rounds: int,
    detector_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    pipeline_id: str,
) -> None:
    monkeypatch.setenv("VIDEOPIPE_YOLO_MODEL", str(detector_model))
    runner = DagPipelineRunner()
    service = VideoFilePipelineService(runner, frame_source=create_frame_source())
    counts: list[int] = []

    def run() -> None:
        counts.append(len(service.run_on_file(pipeline_id, video_320x240.path)))

    benchmark.group = "pipelines 320x240"
    try:
        benchmark.pedantic(run, rounds=pipeline_rounds, iterations=1, warmup_rounds=0)
    finally:
        runner.close()
    assert counts == [video_320x240.frames] * len(counts)
    record_throughput(video_320x240.size, f"pipeline {pipeline_id} (dag runner)", counts[0])
