"""What every frame of a run is processed with, checked once: :class:`RunSettings`.

The service's arguments are checked here with the errors (``TypeError`` /
``ValueError``) and messages its callers rely on; the container checks its own
configuration (a pydantic model) before it builds a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.frames import FrameSource
from videopipe.ports.runner import PipelineRunner

ErrorPolicy = Literal["raise", "skip"]
"""What a frame whose runner call failed (after its retries) does to the run.

``raise``: the runner's exception propagates and the run stops. ``skip``: the run goes
on; that frame's result is ``None`` and its item gains ``"error": {"type", "message",
"attempts"}``.
"""

ImageBytesMode = Literal["raw", "copy"]
"""How ``payload["image_bytes"]`` is made when no encoder is given.

``raw``: a read-only, zero-copy ``memoryview`` of the RGB24 pixels (format ``B``,
``len`` = height * width * 3). ``copy``: the same pixels as an immutable ``bytes``.
"""

ERROR_POLICIES: tuple[str, ...] = get_args(ErrorPolicy)
IMAGE_BYTES_MODES: tuple[str, ...] = get_args(ImageBytesMode)


def check_int(
    name: str, value: object, minimum: int, *, error: type[ValueError] = ValueError
) -> int:
    """``value`` when it is an ``int`` (not a bool) >= ``minimum``; else ``error``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise error(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> Any:
    """``value`` when it is one of ``choices``; else ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_seconds(name: str, value: object) -> float | None:
    """``None``, or ``value`` as a float number of seconds > 0; else ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The runner, decoder and per-frame policy of a run (picklable when they are).

    Built by the service from its checked arguments; a worker process receives it
    inside a :class:`~videopipe.application.work.WorkOrder`.
    """

    runner: PipelineRunner
    frame_source: FrameSource
    image_bytes: ImageBytesMode = "raw"
    image_encoder: ImageEncoder | None = None
    on_error: ErrorPolicy = "raise"
    retries: int = 0
    runner_timeout: float | None = None
