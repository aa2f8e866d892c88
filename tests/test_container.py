"""The dependency-injector container: environments, selectors, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from videopipe.adapters.decoders.imageio_ffmpeg import ImageioFfmpegFrameSource
from videopipe.adapters.decoders.opencv import OpenCVFrameSource
from videopipe.adapters.decoders.pyav import PyAVFrameSource
from videopipe.adapters.encoders import ImageioEncoder
from videopipe.application import VideoFilePipelineService
from videopipe.configuration import IMAGE_BYTES, RUNNERS
from videopipe.container import ENVIRONMENTS, create_container
from videopipe.domain.errors import ConfigurationError, FrameTooLargeError
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
DECODER_TYPES = {
    "imageio_ffmpeg": ImageioFfmpegFrameSource,
    "opencv": OpenCVFrameSource,
    "pyav": PyAVFrameSource,
}


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


def test_policy_timeout_and_limit_settings_reach_the_service_and_decoders() -> None:
    container = create_container(
        "test",
        overrides={
            "on_error": "skip",
            "retries": 2,
            "runner_timeout": 1.5,
            "max_frame_pixels": 1000,
            "decoder": "opencv",
        },
    )
    service = container.video_service()
    assert (service.on_error, service.retries, service.runner_timeout) == ("skip", 2, 1.5)
    assert container.frame_source().max_frame_pixels == 1000


def test_defaults_raise_with_no_retries_no_timeout_and_an_8k_pixel_limit() -> None:
    container = create_container("prod")
    service = container.video_service()
    assert (service.on_error, service.retries, service.runner_timeout) == ("raise", 0, None)
    assert container.frame_source().max_frame_pixels == 8192 * 8192


def test_an_unknown_error_policy_names_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"on_error='ignore'.*valid values: raise, skip"):
        create_container("test", overrides={"on_error": "ignore"})


def test_the_pixel_limit_refuses_a_video_from_its_header(indexed_video: Path) -> None:
    for decoder in DECODER_TYPES:
        container = create_container(
            "test", overrides={"decoder": decoder, "max_frame_pixels": 160 * 120 - 1}
        )
        with pytest.raises(FrameTooLargeError, match="160x120 = 19200 pixels"):
            container.video_service().run_on_file("demo", indexed_video)
