"""The options a batch's manifest records: a digest of everything that changes results.

A manifest made with other options (another pipeline, frame selection, error policy,
output format, or a pipeline file edited since) is refused unless ``--force``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from videopipe.application.settings import RunSettings
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import FrameSelection
from videopipe.ports.runner import PipelineDescribingRunner

__all__ = ["ManifestOptionsError", "options_hash", "what_changed"]


class ManifestOptionsError(ConfigurationError):
    """The manifest was made with other options (a usage error unless ``--force``)."""


def options_hash(
    settings: RunSettings,
    pipeline_id: str,
    selection: FrameSelection,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A digest of everything that changes a video's results (not where they run).

    The pipeline id, the frames selected, the error policy and retries, the image
    bytes mode, the runner and decoder classes, and ``extra`` (output format,
    ``max_errors``, ...): 16 hex digits. When the runner describes its pipelines
    (:class:`~videopipe.ports.runner.PipelineDescribingRunner`), ``.`` and the digest of
    the pipeline's definition follow, so that a pipeline edited since (a parameter, a
    node) is other options too. The executor and ``--jobs`` are not in it: every
    executor gives the same results.
    """
    options = {
        "pipeline": pipeline_id,
        "selection": [selection.start, selection.stop, selection.step],
        "on_error": settings.on_error,
        "retries": settings.retries,
        "image_bytes": settings.image_bytes,
        "runner": type(settings.runner).__qualname__,
        "decoder": type(settings.frame_source).__qualname__,
        **(extra or {}),
    }
    text = json.dumps(options, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if isinstance(settings.runner, PipelineDescribingRunner):
        return f"{digest}{_PIPELINE_PART}{settings.runner.pipeline_digest(pipeline_id)}"
    return digest


_PIPELINE_PART = "."  # between the options' digest and the pipeline definition's


def what_changed(stored: str, options: str) -> str:
    """Which part of :func:`options_hash` differs, said for a person."""
    before, _, pipeline_before = stored.partition(_PIPELINE_PART)
    now, _, pipeline_now = options.partition(_PIPELINE_PART)
    if before != now or pipeline_before == pipeline_now:
        return ""
    if not pipeline_before:
        return "it has no pipeline definition (an older videopipe, or another runner); "
    if not pipeline_now:
        return "this runner does not describe the pipeline's definition; "
    return "the pipeline's definition changed: its nodes, plugins or parameters; "
