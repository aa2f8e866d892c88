"""Naming a pipeline on the command line: an id or a YAML file, and ``--pipeline-path``."""

from __future__ import annotations

from collections.abc import Sequence

import click

from videopipe.cli.app import F
from videopipe.container import Container

PIPELINE_HELP = (
    "Pipeline id, or a pipeline YAML file (a value ending .yaml/.yml, or a path to an "
    "existing file; its id is the file's name without the extension)."
)


def pipeline_path_option(function: F) -> F:
    """``--pipeline-path DIR`` (repeatable): more directories searched for ``<id>.yaml``."""
    decorator = click.option(
        "--pipeline-path",
        "pipeline_paths",
        multiple=True,
        type=click.Path(exists=True, file_okay=False),
        metavar="DIR",
        help="Also search DIR for pipelines (<id>.yaml), after the shipped ones and before "
        "VIDEOPIPE_PIPELINE_PATH's or the configuration's (repeatable).",
    )
    decorated: F = decorator(function)
    return decorated


def chosen_pipeline(container: Container, reference: str, directories: Sequence[str] = ()) -> str:
    """The id of the pipeline ``reference`` names (an id or a file), ``directories`` searched.

    A file is registered with the container's library, so runners (and the copies that
    executors send to other processes) find it by the returned id.
    """
    library = container.pipeline_library()
    library.add_directories(directories)
    return library.resolve(reference)
