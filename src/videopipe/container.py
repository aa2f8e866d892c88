"""The dependency-injector container: one configuration per environment.

``create_container(env)`` loads ``config/base.yaml``, then ``config/<env>.yaml``,
then the file named by ``VIDEOPIPE_CONFIG`` (if set), then the environment variables
``VIDEOPIPE_DECODER``, ``VIDEOPIPE_RUNNER``, ``VIDEOPIPE_EXECUTOR`` and
``VIDEOPIPE_WORKERS``. ``frame_source``, ``runner`` and ``executor`` are the ports'
selectors; swap one in a test with ``container.runner.override(fake)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from videopipe.adapters.decoders.imageio_ffmpeg import ImageioFfmpegFrameSource
from videopipe.adapters.decoders.opencv import OpenCVFrameSource
from videopipe.adapters.decoders.pyav import PyAVFrameSource
from videopipe.adapters.encoders import ImageioEncoder
from videopipe.adapters.executors import create_executor
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.dag.library import search_path_from
from videopipe.adapters.runners.failure import FailureInjectingRunner
from videopipe.adapters.runners.mock import (
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    MockDagPipelineServiceWithMutation,
    add_fields,
)
from videopipe.api import VideoFilePipelineService
from videopipe.configuration import parse_workers, validate
from videopipe.domain.errors import ConfigurationError

CONFIG_DIR = Path(__file__).parent / "config"
ENVIRONMENTS: tuple[str, ...] = ("test", "dev", "prod", "bench")
DEFAULT_ENVIRONMENT = "dev"


def _image_bytes_mode(value: str) -> str:
    return "copy" if value == "copy" else "raw"


class Container(containers.DeclarativeContainer):
    """Every provider videopipe wires. Business classes never import this."""

    config = providers.Configuration(strict=True)

    frame_source = providers.Selector(
        config.decoder,
        imageio_ffmpeg=providers.Singleton(
            ImageioFfmpegFrameSource,
            probe_timeout=config.decoders.imageio_ffmpeg.probe_timeout.as_float(),
            stall_timeout=config.decoders.imageio_ffmpeg.stall_timeout.as_float(),
            max_frame_pixels=config.max_frame_pixels,
        ),
        opencv=providers.Singleton(
            OpenCVFrameSource,
            timeout=config.decoders.opencv.timeout.as_float(),
            threads=config.decoders.opencv.threads.as_int(),
            max_frame_pixels=config.max_frame_pixels,
        ),
        pyav=providers.Singleton(
            PyAVFrameSource,
            threads=config.decoders.pyav.threads.as_int(),
            thread_type=config.decoders.pyav.thread_type,
            conversion_threads=config.decoders.pyav.conversion_threads.as_int(),
            seek_threshold=config.decoders.pyav.seek_threshold.as_int(),
            fast_seek=config.decoders.pyav.fast_seek,
            timeout=config.decoders.pyav.timeout.as_float(),
            tune_malloc=config.decoders.pyav.tune_malloc,
            max_frame_pixels=config.max_frame_pixels,
        ),
    )

    plugin_registry = providers.Singleton(PluginRegistry)

    pipeline_library = providers.Singleton(
        PipelineLibrary,
        providers.Callable(search_path_from, config.pipeline_paths),
        registry=plugin_registry,
    )

    runner = providers.Selector(
        config.runner,
        dag=providers.Singleton(DagPipelineRunner, library=pipeline_library),
        mock=providers.Singleton(
            MockDagPipelineService,
            fail_mode=config.runners.mock.fail_mode,
            keep_images=config.runners.keep_images,
        ),
        latency=providers.Singleton(
            MockDagPipelineServiceWithLatency,
            latency_seconds=config.runners.latency.latency_seconds.as_float(),
            keep_images=config.runners.keep_images,
        ),
        mutation=providers.Singleton(
            MockDagPipelineServiceWithMutation,
            mutator=providers.Callable(add_fields, config.runners.mutation.fields),
            keep_images=config.runners.keep_images,
        ),
        failure=providers.Singleton(
            FailureInjectingRunner,
            fail_at=config.runners.failure.fail_at,
            every=config.runners.failure.every,
            probability=config.runners.failure.probability.as_float(),
            seed=config.runners.failure.seed.as_int(),
            fail_times=config.runners.failure.fail_times,
            exception=config.runners.failure.exception,
            message=config.runners.failure.message,
            action=config.runners.failure.action,
            hang_seconds=config.runners.failure.hang_seconds.as_float(),
            keep_images=config.runners.keep_images,
        ),
    )

    image_encoder = providers.Selector(
        config.image_bytes,
        raw=providers.Object(None),
        copy=providers.Object(None),
        png=providers.Singleton(ImageioEncoder, "png"),
        jpeg=providers.Singleton(ImageioEncoder, "jpeg"),
    )

    executor = providers.Selector(
        config.executor,
        auto=providers.Singleton(
            create_executor,
            "auto",
            workers=config.workers,
            chunk_frames=config.executors.threads.chunk_frames.as_int(),
            depth=config.executors.prefetch.depth.as_int(),
        ),
        sequential=providers.Singleton(create_executor, "sequential"),
        prefetch=providers.Singleton(
            create_executor, "prefetch", depth=config.executors.prefetch.depth.as_int()
        ),
        threads=providers.Singleton(
            create_executor,
            "threads",
            workers=config.workers,
            chunk_frames=config.executors.threads.chunk_frames.as_int(),
            depth=config.executors.prefetch.depth.as_int(),
        ),
        segments=providers.Singleton(create_executor, "segments", workers=config.workers),
        dask=providers.Singleton(
            create_executor,
            "dask",
            workers=config.workers,
            scheduler_address=config.scheduler_address,
            connect_timeout=config.executors.dask.connect_timeout.as_float(),
            preflight=config.executors.dask.preflight,
            worker_setup=config.executors.dask.worker_setup,
            tune_malloc=config.executors.dask.tune_malloc,
            threads=config.executors.dask.threads,
        ),
    )

    video_service = providers.Factory(
        VideoFilePipelineService,
        runner=runner,
        frame_stride=config.frame_stride.as_int(),
        max_frames=config.max_frames,
        frame_source=frame_source,
        image_bytes=providers.Callable(_image_bytes_mode, config.image_bytes),
        image_encoder=image_encoder,
        on_error=config.on_error,
        retries=config.retries.as_int(),
        runner_timeout=config.runner_timeout,
        executor=executor,
    )


def resolve_environment(env: str | None = None) -> str:
    """``env``, else ``VIDEOPIPE_ENV``, else ``dev``; an unknown name is an error."""
    name = env or os.environ.get("VIDEOPIPE_ENV") or DEFAULT_ENVIRONMENT
    if name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"unknown environment {name!r}; valid environments: {', '.join(ENVIRONMENTS)}"
        )
    return name


def create_container(
    env: str | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Container:
    """A container configured for ``env`` (see the module docstring for the order).

    ``overrides`` (dotted keys, e.g. ``{"decoder": "opencv", "frame_stride": 5}``)
    are applied last.
    """
    name = resolve_environment(env)
    container = Container()
    container.config.from_yaml(CONFIG_DIR / "base.yaml", required=True)
    container.config.from_yaml(CONFIG_DIR / f"{name}.yaml", required=True)
    extra = config_file or os.environ.get("VIDEOPIPE_CONFIG")
    if extra:
        if not Path(extra).is_file():
            raise ConfigurationError(f"configuration file not found: {os.fspath(extra)!r}")
        container.config.from_yaml(os.fspath(extra), required=True)
    for key, variable in (
        ("decoder", "VIDEOPIPE_DECODER"),
        ("runner", "VIDEOPIPE_RUNNER"),
        ("executor", "VIDEOPIPE_EXECUTOR"),
    ):
        value = os.environ.get(variable)
        if value:
            container.config.set(key, value)
    workers = os.environ.get("VIDEOPIPE_WORKERS")
    if workers:
        container.config.set("workers", parse_workers(workers, "VIDEOPIPE_WORKERS"))
    for key, value in (overrides or {}).items():
        container.config.set(key, value)
    container.config.set("environment", name)
    validate(container.config())
    return container
