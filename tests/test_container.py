"""The dependency-injector container: environments, selectors, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from videopipe.adapters.decoders.imageio_ffmpeg import ImageioFfmpegFrameSource
from videopipe.adapters.decoders.opencv import OpenCVFrameSource
from videopipe.adapters.encoders import ImageioEncoder
from videopipe.container import ENVIRONMENTS, IMAGE_BYTES, RUNNERS, create_container
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.service import VideoFilePipelineService
from videopipe.ports import FrameSource, PipelineRunner
from videopipe.testing import (
    FailureInjectingRunner,
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    MockDagPipelineServiceWithMutation,
)

RUNNER_TYPES = {
    "mock": MockDagPipelineService,
    "latency": MockDagPipelineServiceWithLatency,
    "mutation": MockDagPipelineServiceWithMutation,
    "failure": FailureInjectingRunner,
}
DECODER_TYPES = {"imageio_ffmpeg": ImageioFfmpegFrameSource, "opencv": OpenCVFrameSource}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIDEOPIPE_ENV", "VIDEOPIPE_DECODER", "VIDEOPIPE_RUNNER", "VIDEOPIPE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_selector_resolves_in_every_environment(env: str) -> None:
    for decoder, expected_decoder in DECODER_TYPES.items():
        for runner, expected_runner in RUNNER_TYPES.items():
            for image_bytes in IMAGE_BYTES:
                container = create_container(
                    env,
                    overrides={"decoder": decoder, "runner": runner, "image_bytes": image_bytes},
                )
                assert isinstance(container.frame_source(), expected_decoder)
                assert isinstance(container.frame_source(), FrameSource)
                assert isinstance(container.runner(), expected_runner)
                assert isinstance(container.runner(), PipelineRunner)
                service = container.video_service()
                assert isinstance(service, VideoFilePipelineService)
                assert service.runner is container.runner()
                if image_bytes in ("png", "jpeg"):
                    assert isinstance(service.image_encoder, ImageioEncoder)
                else:
                    assert service.image_encoder is None
                    assert service.image_bytes == image_bytes


def test_environment_comes_from_argument_then_variable_then_dev(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert create_container().config.environment() == "dev"
    monkeypatch.setenv("VIDEOPIPE_ENV", "prod")
    assert create_container().config.environment() == "prod"
    assert create_container("test").config.environment() == "test"


def test_environment_files_differ_where_they_should() -> None:
    assert create_container("test").config.decoders.imageio_ffmpeg.stall_timeout() == 10.0
    assert create_container("prod").config.decoders.imageio_ffmpeg.stall_timeout() == 60.0


def test_unknown_environment_names_the_valid_ones() -> None:
    with pytest.raises(
        ConfigurationError,
        match="unknown environment 'staging'; valid environments: test, dev, prod, bench",
    ):
        create_container("staging")


def test_decoder_and_runner_come_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOPIPE_DECODER", "opencv")
    monkeypatch.setenv("VIDEOPIPE_RUNNER", "latency")
    container = create_container("test")
    assert isinstance(container.frame_source(), OpenCVFrameSource)
    assert isinstance(container.runner(), MockDagPipelineServiceWithLatency)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "VIDEOPIPE_DECODER",
            "gstreamer",
            "decoder='gstreamer'.*valid values: imageio_ffmpeg, opencv",
        ),
        ("VIDEOPIPE_RUNNER", "real", "runner='real'.*valid values: " + ", ".join(RUNNERS)),
    ],
)
def test_wrong_values_name_the_valid_choices(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        create_container("test")


def test_a_user_config_file_overrides_the_environment(tmp_path: Path) -> None:
    extra = tmp_path / "videopipe.yaml"
    extra.write_text("runner: failure\nrunners:\n  failure:\n    fail_at: [3]\n")
    runner = create_container("test", config_file=extra).runner()
    assert isinstance(runner, FailureInjectingRunner)
    assert runner.fail_at == frozenset({3})
    with pytest.raises(ConfigurationError, match="configuration file not found"):
        create_container("test", config_file=tmp_path / "missing.yaml")


def test_tests_swap_the_runner_with_override(indexed_video: Path) -> None:
    container = create_container("test")
    fake = MockDagPipelineService(fail_mode="plugin_error")
    with container.runner.override(fake):
        service = container.video_service()
        assert service.runner is fake
        with pytest.raises(RuntimeError, match="Plugin execution failed"):
            service.run_on_file("p", indexed_video)
    assert container.video_service().runner is not fake


def test_the_wired_service_runs_end_to_end(indexed_video: Path) -> None:
    container = create_container("test", overrides={"frame_stride": 10})
    results = container.video_service().run_on_file("demo", indexed_video)
    assert [item["frame_index"] for item in results] == [0, 10, 20]
    assert len(container.runner().calls) == 3
