"""Pipeline specs: YAML files validated with pydantic and compiled into a sorted DAG.

A pipeline file::

    description: QR codes on every frame
    on_error: raise            # raise | skip | retry
    retries: 0                 # with on_error: retry, attempts after the first
    nodes:
      small:
        plugin: resize
        params: {scale: 0.5}
      codes:
        plugin: qr_decode
        inputs: {image: small.image}   # unbound inputs default to frame.<name>
    outputs: [codes]           # default: the nodes no other node consumes
    frame: {max_side: 640}     # optional: decode frames at most 640 px on their longer side

Everything is checked when the file loads, before the first frame: the schema, each
plugin's name, parameter names and types, every input binding, and cycles.

Over 300 lines because loading is one pass that reports every error against the file's
lines: the schema, parameter typing, bindings and the topological sort share its error
context; split, each part would take that context as arguments.
"""

from __future__ import annotations

import graphlib
import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag.sizing import FrameSpec, frame_size
from videopipe.domain.errors import MissingDependencyError, PipelineSpecError
from videopipe.domain.model import FrameSize
from videopipe.ports.plugins import Plugin

FRAME = "frame"
FRAME_KEYS = (
    "image",
    "timestamp",
    "frame_index",
    "width",
    "height",
    "source_width",
    "source_height",
    "scale",
    "format",
    "luma_range",
)
_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}$")


class NodeSpec(BaseModel):
    """One node as written in the file."""

    model_config = ConfigDict(extra="forbid")
    plugin: str
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)


class PipelineSpec(BaseModel):
    """A pipeline file as written."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    frame: FrameSpec | None = None
    on_error: Literal["raise", "skip", "retry"] = "raise"
    retries: int = Field(default=0, ge=0, le=100)
    nodes: dict[str, NodeSpec] = Field(min_length=1)
    outputs: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """Where an input comes from: ``frame`` (the payload) or a node, and which key."""

    node: str
    key: str | None


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled node: its plugin class, validated parameters and input bindings."""

    id: str
    plugin: type[Plugin]
    params: Mapping[str, Any]
    bindings: Mapping[str, Binding]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A loaded, validated pipeline: nodes in topological order."""

    id: str
    source: str
    description: str
    nodes: Mapping[str, Node]
    order: tuple[str, ...]
    outputs: tuple[str, ...]
    on_error: str
    retries: int
    environment: tuple[tuple[str, str | None], ...] = ()
    """The environment variables its parameters came from, with their values then."""
    frame_size: FrameSize | None = None
    """The size its frames are decoded at (:func:`pipeline_frame_size`)."""

    def environment_changed(self) -> bool:
        """Whether a variable it was built from has changed since."""
        return any(os.environ.get(name) != value for name, value in self.environment)


def load_pipeline(path: Path, registry: PluginRegistry, pipeline_id: str | None = None) -> Pipeline:
    """Read, validate and compile the pipeline file at ``path``."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PipelineSpecError(source, f"cannot read it: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PipelineSpecError(source, f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PipelineSpecError(source, "the file must hold a mapping with a 'nodes' key")
    try:
        spec = PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(source, exc) from exc
    return compile_pipeline(spec, registry, source, pipeline_id or path.stem)


def compile_pipeline(
    spec: PipelineSpec, registry: PluginRegistry, source: str, pipeline_id: str
) -> Pipeline:
    """Resolve plugins, validate parameters and bindings, sort the graph."""
    nodes: dict[str, Node] = {}
    for node_id, node_spec in spec.nodes.items():
        if not _NODE_ID.match(node_id) or node_id == FRAME:
            raise PipelineSpecError(
                source, "a node id must be an identifier other than 'frame'", node=node_id
            )
        plugin = _plugin(registry, source, node_id, node_spec.plugin)
        params = _params(source, node_id, plugin, node_spec.params)
        nodes[node_id] = Node(node_id, plugin, params, {})
    for node_id, node_spec in spec.nodes.items():
        bindings = _bindings(source, node_id, nodes, node_spec.inputs)
        nodes[node_id] = Node(node_id, nodes[node_id].plugin, nodes[node_id].params, bindings)
    order = _topological_order(source, nodes)
    outputs = _outputs(source, spec, nodes)
    for node in nodes.values():
        _check_requirements(pipeline_id, node)
    return Pipeline(
        id=pipeline_id,
        source=source,
        description=spec.description,
        nodes=nodes,
        order=order,
        outputs=outputs,
        on_error=spec.on_error,
        retries=spec.retries,
        environment=tuple((name, os.environ.get(name)) for name in environment_references(spec)),
        frame_size=frame_size(
            source, spec.frame, [_image_readers_size(node) for node in nodes.values()]
        ),
    )


def _image_readers_size(node: Node) -> FrameSize | bool | None:
    """What a node declares of the frame size; ``False``: it does not read the frame."""
    if Binding(FRAME, "image") not in node.bindings.values():
        return False
    return node.plugin.frame_size(node.params)


def _spec_error(source: str, error: ValidationError) -> PipelineSpecError:
    problems = []
    node = None
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        if len(location) >= 2 and location[0] == "nodes" and node is None:
            node = location[1]
        problems.append(f"{'.'.join(location) or 'file'}: {item['msg']}")
    return PipelineSpecError(source, "; ".join(problems), node=node)


def _plugin(registry: PluginRegistry, source: str, node_id: str, name: str) -> type[Plugin]:
    try:
        plugin = registry.get(name)
    except Exception as exc:
        raise PipelineSpecError(
            source, f"plugin {name!r} failed to load: {type(exc).__name__}: {exc}", node=node_id
        ) from exc
    if plugin is not None:
        return plugin
    if name in registry.errors:
        problem = f"plugin {name!r} is installed but broken: {registry.errors[name]}"
    else:
        problem = f"unknown plugin {name!r}; known plugins: {', '.join(registry.names())}"
    raise PipelineSpecError(source, problem, node=node_id)


@cache
def params_model(plugin: type[Plugin]) -> type[BaseModel]:
    """A pydantic model of ``plugin.params`` (unknown names are refused)."""
    fields: dict[str, Any] = {
        name: (param.type, ... if param.required else param.default)
        for name, param in plugin.params.items()
    }
    model: type[BaseModel] = create_model(
        f"{plugin.__name__}Params", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model


def _params(
    source: str, node_id: str, plugin: type[Plugin], given: Mapping[str, Any]
) -> dict[str, Any]:
    values = {
        name: _substitute_env(source, node_id, plugin, name, value) for name, value in given.items()
    }
    try:
        validated = params_model(plugin).model_validate(values)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            name = ".".join(str(part) for part in item["loc"]) or "params"
            if item["type"] == "extra_forbidden":
                valid = ", ".join(plugin.params) or "none"
                problems.append(
                    f"unknown parameter {name!r} of plugin {plugin.name!r} (valid: {valid})"
                )
            elif item["type"] == "missing":
                help_text = plugin.params[name].help if name in plugin.params else ""
                problems.append(
                    f"parameter {name!r} of plugin {plugin.name!r} is required"
                    + (f" ({help_text})" if help_text else "")
                )
            else:
                message = str(item["msg"]).removeprefix("Value error, ")
                origin = _env_origin(given.get(name))
                problems.append(
                    f"parameter {name!r}: {message} (got {item.get('input')!r}{origin})"
                )
        raise PipelineSpecError(source, "; ".join(problems), node=node_id) from exc
    params = validated.model_dump()
    try:
        plugin.check_params(params)
    except ValueError as exc:
        raise PipelineSpecError(source, f"plugin {plugin.name!r}: {exc}", node=node_id) from exc
    return params


def environment_references(spec: PipelineSpec) -> tuple[str, ...]:
    """The environment variables a spec's parameters name (``${NAME}``)."""
    names = {
        match.group("name")
        for node in spec.nodes.values()
        for value in node.params.values()
        if isinstance(value, str) and (match := _ENV_REFERENCE.match(value))
    }
    return tuple(sorted(names))


def _env_origin(value: Any) -> str:
    if isinstance(value, str) and (match := _ENV_REFERENCE.match(value)):
        return f", from the environment variable {match.group('name')}"
    return ""


def _substitute_env(source: str, node_id: str, plugin: type[Plugin], name: str, value: Any) -> Any:
    """``${NAME}`` as a whole parameter value is the environment variable NAME."""
    if not isinstance(value, str) or not (match := _ENV_REFERENCE.match(value)):
        return value
    variable = match.group("name")
    found = os.environ.get(variable)
    if not found:
        param = plugin.params.get(name)
        wanted = f" ({param.help})" if param is not None and param.help else ""
        raise PipelineSpecError(
            source,
            f"parameter {name!r}{wanted} comes from the environment variable {variable}, which "
            f"is not set: export {variable}=... (or copy the pipeline and set {name} in it)",
            node=node_id,
        )
    return found


def _bindings(
    source: str, node_id: str, nodes: Mapping[str, Node], given: Mapping[str, str]
) -> dict[str, Binding]:
    plugin = nodes[node_id].plugin
    unknown = sorted(set(given) - set(plugin.inputs))
    if unknown:
        raise PipelineSpecError(
            source,
            f"unknown input {unknown[0]!r} of plugin {plugin.name!r} "
            f"(inputs: {', '.join(plugin.inputs) or 'none'})",
            node=node_id,
        )
    bindings = {}
    for name in plugin.inputs:
        reference = given.get(name)
        if reference is None:
            if name in FRAME_KEYS:
                bindings[name] = Binding(FRAME, name)
            elif name in plugin.optional_inputs:
                bindings[name] = Binding(FRAME, None)
            else:
                raise PipelineSpecError(
                    source, f"input {name!r} of plugin {plugin.name!r} is not bound", node=node_id
                )
            continue
        bindings[name] = _binding(source, node_id, nodes, name, reference)
    return bindings


def _binding(
    source: str, node_id: str, nodes: Mapping[str, Node], name: str, reference: str
) -> Binding:
    target, dot, key = reference.partition(".")
    if not dot or not key:
        raise PipelineSpecError(
            source,
            f"input {name!r}: {reference!r} is not '<node>.<output>' or 'frame.<key>'",
            node=node_id,
        )
    if target == FRAME:
        if key not in FRAME_KEYS:
            raise PipelineSpecError(
                source,
                f"input {name!r}: the frame has no {key!r} (frame keys: {', '.join(FRAME_KEYS)})",
                node=node_id,
            )
        return Binding(FRAME, key)
    if target not in nodes:
        raise PipelineSpecError(
            source,
            f"input {name!r} refers to unknown node {target!r} (nodes: {', '.join(nodes)})",
            node=node_id,
        )
    if target == node_id:
        raise PipelineSpecError(source, f"input {name!r} refers to its own node", node=node_id)
    outputs = nodes[target].plugin.outputs
    if key not in outputs:
        raise PipelineSpecError(
            source,
            f"input {name!r}: node {target!r} ({nodes[target].plugin.name}) has no output {key!r} "
            f"(outputs: {', '.join(outputs) or 'none'})",
            node=node_id,
        )
    return Binding(target, key)


def _topological_order(source: str, nodes: Mapping[str, Node]) -> tuple[str, ...]:
    graph = {
        node_id: {binding.node for binding in node.bindings.values() if binding.node != FRAME}
        for node_id, node in nodes.items()
    }
    try:
        return tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1]) if len(exc.args) > 1 else []
        raise PipelineSpecError(source, f"the nodes form a cycle: {' -> '.join(cycle)}") from exc


def _outputs(source: str, spec: PipelineSpec, nodes: Mapping[str, Node]) -> tuple[str, ...]:
    if spec.outputs is None:
        consumed = {binding.node for node in nodes.values() for binding in node.bindings.values()}
        return tuple(node_id for node_id in nodes if node_id not in consumed)
    unknown = [name for name in spec.outputs if name not in nodes]
    if unknown:
        raise PipelineSpecError(
            source, f"outputs name unknown node {unknown[0]!r} (nodes: {', '.join(nodes)})"
        )
    if not spec.outputs:
        raise PipelineSpecError(source, "outputs is empty: name at least one node")
    return tuple(spec.outputs)


def _check_requirements(pipeline_id: str, node: Node) -> None:
    for module, extra in node.plugin.requirements(node.params).items():
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(
                f"Pipeline {pipeline_id!r} (node {node.id!r}, plugin {node.plugin.name!r})", extra
            )
