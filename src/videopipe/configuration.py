"""The container's configuration checked before anything is wired: one pydantic model.

A wrong value is a :class:`~videopipe.domain.errors.ConfigurationError` naming the key,
the value, the environment and what is expected (the field's description).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from videopipe.adapters.decoders import DECODERS
from videopipe.adapters.encoders import IMAGE_FORMATS
from videopipe.adapters.executors import EXECUTORS
from videopipe.application.settings import ERROR_POLICIES, IMAGE_BYTES_MODES
from videopipe.domain.errors import ConfigurationError

RUNNERS: tuple[str, ...] = ("dag", "mock", "latency", "mutation", "failure")
IMAGE_BYTES: tuple[str, ...] = (*IMAGE_BYTES_MODES, *IMAGE_FORMATS)

_CHOICES: dict[str, tuple[str, ...]] = {
    "decoder": tuple(DECODERS),
    "runner": RUNNERS,
    "image_bytes": IMAGE_BYTES,
    "on_error": ERROR_POLICIES,
    "executor": tuple(EXECUTORS),
}


def _valid(key: str) -> str:
    return f"valid values: {', '.join(_CHOICES[key])}"


_COUNT = "expected a whole number >= 1"
Count = Annotated[int, Field(strict=True, ge=1, description=_COUNT)]


class _Options(BaseModel):
    model_config = ConfigDict(extra="allow")


class _PrefetchOptions(_Options):
    depth: Count


class _ThreadsOptions(_Options):
    chunk_frames: Count


class _DaskOptions(_Options):
    connect_timeout: Annotated[
        float, Field(strict=False, gt=0, description="expected seconds > 0")
    ] = 10.0
    preflight: Annotated[bool, Field(strict=True, description="expected true or false")] = True
    worker_setup: Annotated[bool, Field(strict=True, description="expected true or false")] = True
    tune_malloc: Annotated[bool, Field(strict=True, description="expected true or false")] = True
    threads: Annotated[
        int | None, Field(strict=True, ge=1, description=f"{_COUNT} or null (the libraries')")
    ] = None

    @field_validator("connect_timeout", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("not a number of seconds")
        return value


class _ExecutorOptions(_Options):
    prefetch: _PrefetchOptions
    threads: _ThreadsOptions
    dask: _DaskOptions = _DaskOptions()


class Settings(_Options):
    """The choices and counts of a configuration the container checks before wiring.

    Each field's description is what a wrong value's error says is expected.
    """

    decoder: str = Field(description=_valid("decoder"))
    runner: str = Field(description=_valid("runner"))
    image_bytes: str = Field(description=_valid("image_bytes"))
    on_error: str = Field(description=_valid("on_error"))
    executor: str = Field(description=_valid("executor"))
    workers: Annotated[
        int | None, Field(strict=True, ge=1, description=f"{_COUNT} or null (one per CPU)")
    ] = None
    executors: _ExecutorOptions
    scheduler_address: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1),
        Field(
            strict=True,
            description="expected a Dask scheduler address such as 'tcp://host:8786', or null",
        ),
    ] = None

    @field_validator(*_CHOICES, mode="before")
    @classmethod
    def _one_of(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name is None or value not in _CHOICES[info.field_name]:
            raise ValueError("not one of the valid values")
        return value


def validate(config: dict[str, Any]) -> None:
    """Check ``config`` against :class:`Settings`; the first wrong value is the error."""
    try:
        Settings.model_validate(config)
    except ValidationError as exc:
        error = exc.errors()[0]
        model: type[BaseModel] = Settings
        keys: list[str] = []
        field = None
        for part in error["loc"]:
            if not isinstance(part, str) or part not in model.model_fields:
                break
            keys.append(part)
            field = model.model_fields[part]
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                model = field.annotation
        key = ".".join(keys)
        hint = field.description if field is not None and field.description else error["msg"]
        value = None if error["type"] == "missing" else error.get("input")
        raise ConfigurationError(
            f"invalid configuration value {key}={value!r} "
            f"(environment {config['environment']!r}); {hint}"
        ) from None


def parse_workers(value: str, source: str) -> int | None:
    """``value`` (an environment variable) as a worker count; null/none/auto: one per CPU."""
    if value.strip().lower() in ("null", "none", "auto"):
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(
            f"{source} must be a whole number of workers (or 'null' for one per CPU), got {value!r}"
        ) from None
