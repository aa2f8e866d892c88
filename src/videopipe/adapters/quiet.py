"""Third-party libraries kept off stderr: the command line's choice (``--debug`` lifts it).

RapidOCR logs a warning for every frame without text; onnxruntime, dask/distributed
(and its bokeh and tornado), OpenCV and the FFmpeg inside OpenCV have logs of their
own. :func:`quiet_libraries` lets only their errors through, in this process and,
through environment variables, in the processes it starts (segment workers, Dask
workers), which call :func:`quiet_if_asked` once they have imported those libraries.
PyAV forwards nothing from FFmpeg unless asked (``av.logging``), and the ``ffmpeg``
command's own lines are read by the decoders, so neither needs more here.

A library is never quieted by importing videopipe: only the CLI calls this.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

QUIET_VARIABLE = "VIDEOPIPE_QUIET_LIBRARIES"
"""Set to ``1`` in the environment while libraries are quieted (inherited by workers)."""

LIBRARY_LOGGERS: tuple[str, ...] = (
    "RapidOCR",
    "onnxruntime",
    "distributed",
    "dask",
    "bokeh",
    "tornado",
    "PIL",
    "numba",
)
"""Loggers (with their children) whose records below ERROR are dropped."""

_VARIABLES = {
    "OPENCV_LOG_LEVEL": "ERROR",  # OpenCV's own log (read when cv2 loads)
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # the FFmpeg inside OpenCV: AV_LOG_QUIET
    "DASK_LOGGING__DISTRIBUTED": "error",  # distributed's level when it is imported
}
_ONNXRUNTIME_ERRORS = 3
"""onnxruntime's severity for errors (0 verbose, 1 info, 2 warning, 3 error, 4 fatal)."""


class _ErrorsOnly(logging.Filter):
    """Lets records of level ERROR and above through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


_FILTER = _ErrorsOnly()


def _library_loggers() -> list[logging.Logger]:
    """The library loggers, and their children that exist by now."""
    names = set(LIBRARY_LOGGERS)
    names.update(
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.split(".", 1)[0] in LIBRARY_LOGGERS
    )
    return [logging.getLogger(name) for name in sorted(names)]


def quiet_libraries() -> None:
    """Drop the libraries' log records below ERROR and their Python warnings.

    Each logger (and each handler attached to one) gets a filter, so a library that
    sets its level again later (RapidOCR does, per engine) stays quiet. Warnings are
    ignored unless the user chose what to do with them (``-W``, ``PYTHONWARNINGS``).
    Safe to call more than once.
    """
    os.environ[QUIET_VARIABLE] = "1"
    for name, value in _VARIABLES.items():
        os.environ.setdefault(name, value)
    if not sys.warnoptions:
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
        warnings.simplefilter("ignore")
    for logger in _library_loggers():
        if logger.level < logging.ERROR:
            logger.setLevel(logging.ERROR)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
    _quiet_loaded_modules()


def _quiet_loaded_modules() -> None:
    """The libraries whose logs are set by a call, when they are already imported."""
    cv2 = sys.modules.get("cv2")
    set_level = getattr(cv2, "setLogLevel", None)
    if callable(set_level):
        set_level(2)  # OpenCV's LOG_LEVEL_ERROR
    onnxruntime = sys.modules.get("onnxruntime")
    set_severity = getattr(onnxruntime, "set_default_logger_severity", None)
    if callable(set_severity):
        set_severity(_ONNXRUNTIME_ERRORS)


def quiet_if_asked() -> None:
    """:func:`quiet_libraries` if the process that started this one quieted them.

    Called where libraries are imported late (a plugin's setup, a worker's start).
    """
    if os.environ.get(QUIET_VARIABLE) == "1":
        quiet_libraries()


@contextlib.contextmanager
def libraries_quieted(quiet: bool = True) -> Iterator[None]:
    """:func:`quiet_libraries` for the block (``quiet=False``: make sure they are not).

    On the way out the environment, the warning filters and the loggers' filters are as
    they were (the levels set stay: no record below ERROR is lost that was wanted).
    """
    names = (QUIET_VARIABLE, "PYTHONWARNINGS", *_VARIABLES)
    saved = {name: os.environ.get(name) for name in names}
    with warnings.catch_warnings():
        try:
            if quiet:
                quiet_libraries()
            else:
                os.environ.pop(QUIET_VARIABLE, None)
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            for logger in _library_loggers():
                for holder in (logger, *logger.handlers):
                    holder.removeFilter(_FILTER)
