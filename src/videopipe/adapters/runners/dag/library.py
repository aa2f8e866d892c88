"""Finding pipelines by id on a search path, and caching what was loaded."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag.spec import Pipeline, load_pipeline
from videopipe.domain.errors import PipelineNotFoundError, PipelineSpecError

SHIPPED_PIPELINES = Path(str(resources.files("videopipe") / "pipelines"))
"""The pipelines shipped in the package (a directory of the installed package)."""
PATH_VARIABLE = "VIDEOPIPE_PIPELINE_PATH"
_SUFFIXES = (".yaml", ".yml")
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_pipeline_id(pipeline_id: str) -> str:
    """``pipeline_id`` if it is a name; a separator, ``..`` or absolute path is refused."""
    if (
        not isinstance(pipeline_id, str)
        or not _ID.match(pipeline_id)
        or ".." in pipeline_id
        or os.sep in pipeline_id
        or (os.altsep is not None and os.altsep in pipeline_id)
        or os.path.isabs(pipeline_id)
    ):
        raise PipelineSpecError(
            f"pipeline id {pipeline_id!r}",
            "a pipeline id is a name (letters, digits, '_', '-', '.'), never a path",
        )
    return pipeline_id


def pipeline_digest(pipeline: Pipeline) -> str:
    """A digest of what ``pipeline`` runs (16 hex digits), not of how its file is written.

    Its nodes by id (each plugin's class, its validated parameters, where its inputs
    come from), outputs, error policy and retries, and frame size; not its description,
    the order of its nodes in the file, comments or layout.
    """
    definition = {
        "nodes": {
            node.id: {
                "plugin": f"{node.plugin.__module__}.{node.plugin.__qualname__}",
                "params": dict(node.params),
                "inputs": {
                    name: [binding.node, binding.key] for name, binding in node.bindings.items()
                },
            }
            for node in pipeline.nodes.values()
        },
        "outputs": sorted(pipeline.outputs),
        "on_error": pipeline.on_error,
        "retries": pipeline.retries,
        "frame_size": repr(pipeline.frame_size),
    }
    text = json.dumps(definition, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def search_path_from(configured: Sequence[str | os.PathLike[str]] | None) -> list[Path]:
    """The user directories: ``VIDEOPIPE_PIPELINE_PATH`` if set, else ``configured``."""
    variable = os.environ.get(PATH_VARIABLE)
    if variable is not None:
        return [Path(part) for part in variable.split(os.pathsep) if part]
    return [Path(part) for part in (configured or [])]


class PipelineLibrary:
    """Pipelines by id: the ones shipped in the package first, then ``directories``.

    Loaded pipelines are cached (per file and modification time, so an edited file is
    read again, as is one whose ``${VARIABLE}`` parameters changed value).
    """

    def __init__(
        self,
        directories: Sequence[str | os.PathLike[str]] = (),
        *,
        registry: PluginRegistry | None = None,
        shipped: bool = True,
    ) -> None:
        self.registry = registry or PluginRegistry()
        self.directories = ([SHIPPED_PIPELINES] if shipped else []) + [
            Path(directory) for directory in directories
        ]
        self.files: dict[str, Path] = {}
        """Pipelines given by file (:meth:`resolve`): id -> file; found before the search path."""
        self._cache: dict[tuple[str, int], Pipeline] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        """Pickle the search path, named files and registry; the copy loads (and caches) afresh."""
        return {
            "registry": self.registry,
            "directories": list(self.directories),
            "files": dict(self.files),
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cache = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        """Every pipeline id on the search path."""
        found = {
            path.stem
            for directory in self.directories
            if directory.is_dir()
            for path in directory.iterdir()
            if path.suffix in _SUFFIXES and path.is_file() and _ID.match(path.stem)
        }
        return sorted(found)

    def add_directories(self, directories: Sequence[str | os.PathLike[str]]) -> None:
        """Search ``directories`` too: after the shipped pipelines, before the others."""
        position = 1 if self.directories[:1] == [SHIPPED_PIPELINES] else 0
        added: list[Path] = []
        for directory in map(Path, directories):
            if directory not in self.directories and directory not in added:
                added.append(directory)
        self.directories[position:position] = added

    def resolve(self, reference: str) -> str:
        """The pipeline id ``reference`` names: an id, or a pipeline file (its id is its stem).

        ``reference`` is a file when it ends with ``.yaml``/``.yml``, or when it holds a
        path separator and names an existing file; the file is then found by its id
        before the search path. Otherwise it must be an id (checked, not yet looked up).
        """
        looks_like_file = reference.endswith(_SUFFIXES)
        has_separator = os.sep in reference or (os.altsep is not None and os.altsep in reference)
        if looks_like_file or (has_separator and os.path.exists(reference)):
            path = Path(reference)
            if not path.is_file():
                problem = "it is a directory" if path.is_dir() else "no such file"
                raise PipelineNotFoundError(
                    reference, [], [], message=f"Pipeline file not found: {reference!r} ({problem})"
                )
            if not _ID.match(path.stem):
                raise PipelineSpecError(
                    reference,
                    f"the file's name gives the pipeline id {path.stem!r}; an id is a name "
                    "(letters, digits, '_', '-', '.')",
                )
            self.files[path.stem] = path.resolve()
            return path.stem
        if has_separator:
            raise PipelineSpecError(
                repr(reference),
                "no such pipeline file, and a pipeline id is a name (letters, digits, "
                "'_', '-', '.'), never a path",
            )
        return check_pipeline_id(reference)

    def find(self, pipeline_id: str) -> Path:
        """The file of ``pipeline_id``: one given by :meth:`resolve`, else the first on the path."""
        check_pipeline_id(pipeline_id)
        if pipeline_id in self.files:
            return self.files[pipeline_id]
        for directory in self.directories:
            for suffix in _SUFFIXES:
                candidate = directory / f"{pipeline_id}{suffix}"
                if candidate.is_file():
                    return candidate
        raise PipelineNotFoundError(
            pipeline_id, self.ids(), [str(directory) for directory in self.directories]
        )

    def load(self, pipeline_id: str) -> Pipeline:
        """The validated pipeline ``pipeline_id`` (cached)."""
        path = self.find(pipeline_id)
        key = (str(path), path.stat().st_mtime_ns)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or cached.environment_changed():
                self._cache[key] = cached = load_pipeline(path, self.registry, pipeline_id)
            return cached

    def digest(self, pipeline_id: str) -> str:
        """:func:`pipeline_digest` of ``pipeline_id`` as it is now (loaded if it changed)."""
        return pipeline_digest(self.load(pipeline_id))

    def load_file(self, path: str | os.PathLike[str]) -> Pipeline:
        """Validate any pipeline file (its id is its file name)."""
        return load_pipeline(Path(path), self.registry)
