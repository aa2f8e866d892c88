"""``videopipe probe``, ``videopipe pipelines ...`` and ``videopipe plugins list``.

Over 300 lines because it holds five small read-only commands (each its options, its
table and its JSON form), which read best side by side.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import click
import yaml
from rich.table import Table
from rich.text import Text

from videopipe.adapters.ffmpeg.packets import packet_facts
from videopipe.adapters.plugins import type_name
from videopipe.adapters.runners.dag.spec import Pipeline
from videopipe.cli.app import (
    EXIT_OK,
    EXIT_PIPELINE,
    add_text_row,
    app,
    debug_option,
    decoder_option,
    env_option,
    error_line,
    stdout_console,
)
from videopipe.cli.pipeline_choice import chosen_pipeline, pipeline_path_option
from videopipe.container import create_container
from videopipe.domain.errors import PipelineSpecError, VideoPipeError
from videopipe.ports.plugins import Plugin


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


# ----------------------------------------------------------------------------- probe


@app.command("probe", short_help="What a video file holds: container, codec, size, rate, ...")
@click.argument("video", metavar="VIDEO")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@decoder_option
@env_option
@debug_option
def probe_command(video: str, as_json: bool, decoder: str | None, env: str | None) -> int:
    """Print what VIDEO declares, as the decoder reads it.

    Container, codec, width and height (of the decoded frames, after rotation),
    rotation, frame rate, frame count (from the container's index; absent when it
    declares none), duration in seconds and whether it is interlaced. Then what the
    packets say: the frame count the header declares (for AVI, the chunks holding
    data), the frames the packets store, and whether the frames' timestamps are
    monotonic (when not, why), so that what videopipe reports can be checked. An AVI
    cut short says so: the bytes its chunks claim, and the frames its headers declare.
    """
    overrides = {"decoder": decoder} if decoder else None
    info = create_container(env, overrides=overrides).video_service().video_info(video)
    facts = dataclasses.asdict(info)
    facts.update(packet_facts(os.path.abspath(video)))
    if as_json:
        _print_json(facts)
        return EXIT_OK
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    for key, value in facts.items():
        shown = (
            "unknown"
            if value is None
            else ("yes" if value else "no")
            if isinstance(value, bool)
            else f"{value:g}"
            if isinstance(value, float)
            else value
        )
        add_text_row(table, key.replace("_", " "), str(shown))
    stdout_console().print(table)
    return EXIT_OK


# ------------------------------------------------------------------------- pipelines


@app.group("pipelines", short_help="List, show and validate pipelines.")
def pipelines_group() -> None:
    """The pipelines on the search path.

    The shipped ones, then those in VIDEOPIPE_PIPELINE_PATH's directories (or the
    configuration's pipeline_paths).
    """


def _description(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return ""
    text = raw.get("description", "") if isinstance(raw, dict) else ""
    return " ".join(str(text).split())


@pipelines_group.command("list", short_help="Every pipeline id, its description and status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@env_option
@debug_option
def pipelines_list(as_json: bool, env: str | None) -> int:
    """List every pipeline id with its description, file and whether it loads here.

    A pipeline that does not load says why (a missing extra and its pip command, an
    unset environment variable, an invalid file).
    """
    library = create_container(env).pipeline_library()
    rows = []
    for pipeline_id in library.ids():
        path = str(library.find(pipeline_id))
        try:
            library.load(pipeline_id)
            status = "ok"
        except PipelineSpecError as exc:
            status = f"invalid: {exc.problem}"
        except VideoPipeError as exc:
            status = error_line(exc).removeprefix("videopipe: error: ")
        rows.append(
            {"id": pipeline_id, "description": _description(path), "status": status, "file": path}
        )
    if as_json:
        _print_json(rows)
        return EXIT_OK
    table = Table("id", "description", "status", title=None, expand=False)
    for row in rows:
        add_text_row(table, row["id"], row["description"], row["status"])
    stdout_console().print(table)
    return EXIT_OK


def _pipeline_facts(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.id,
        "file": pipeline.source,
        "description": pipeline.description,
        "on_error": pipeline.on_error,
        "retries": pipeline.retries,
        "outputs": list(pipeline.outputs),
        "nodes": [
            {
                "id": node_id,
                "plugin": pipeline.nodes[node_id].plugin.name,
                "params": dict(pipeline.nodes[node_id].params),
                "inputs": {
                    name: "(unbound)" if binding.key is None else f"{binding.node}.{binding.key}"
                    for name, binding in pipeline.nodes[node_id].bindings.items()
                },
            }
            for node_id in pipeline.order
        ],
    }


def _print_pipeline(facts: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(Text(f"{facts['id']}  ({facts['file']})", style="bold"))
    if facts["description"]:
        console.print(" ".join(facts["description"].split()), markup=False)
    console.print(
        f"outputs: {', '.join(facts['outputs'])}; on_error: {facts['on_error']}; "
        f"retries: {facts['retries']}",
        markup=False,
    )
    table = Table("node", "plugin", "inputs", "params")
    for node in facts["nodes"]:
        add_text_row(
            table,
            node["id"],
            node["plugin"],
            "\n".join(f"{name} <- {source}" for name, source in node["inputs"].items()),
            "\n".join(f"{name} = {value!r}" for name, value in node["params"].items()),
        )
    console.print(table)


@pipelines_group.command("show", short_help="A pipeline's nodes, plugins, inputs and parameters.")
@click.argument("pipeline_id", metavar="ID|FILE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pipeline_path_option
@env_option
@debug_option
def pipelines_show(
    pipeline_id: str, as_json: bool, pipeline_paths: tuple[str, ...], env: str | None
) -> int:
    """Load pipeline ID (or the pipeline FILE) and show its nodes in the order they run.

    Each node's plugin, where its inputs come from and its parameters (defaults
    filled in), and the pipeline's outputs and error policy.
    """
    container = create_container(env)
    chosen = chosen_pipeline(container, pipeline_id, pipeline_paths)
    facts = _pipeline_facts(container.pipeline_library().load(chosen))
    if as_json:
        _print_json(facts)
    else:
        _print_pipeline(facts)
    return EXIT_OK


@pipelines_group.command("validate", short_help="Check pipeline files; exit 4 if one is invalid.")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@pipeline_path_option
@env_option
@debug_option
def pipelines_validate(
    files: tuple[str, ...], pipeline_paths: tuple[str, ...], env: str | None
) -> int:
    """Validate each pipeline FILE (or pipeline id) as a run would load it.

    Checks the schema, each plugin's name, parameter names, types and combinations,
    input bindings, cycles and the extras the plugins need. Prints one line per file:
    "ok" on stdout, or the problem on stderr; exits 4 if any file is invalid. A FILE
    that is a name only (no path, no .yaml) is taken as a pipeline id on the search path.
    """
    container = create_container(env)
    library = container.pipeline_library()
    library.add_directories(pipeline_paths)
    failed = False
    for path in files:
        try:
            if os.path.exists(path) or path.endswith((".yaml", ".yml")) or os.sep in path:
                pipeline = library.load_file(path)
            else:
                pipeline = library.load(chosen_pipeline(container, path))
        except VideoPipeError as exc:
            failed = True
            click.echo(error_line(exc), err=True)
            continue
        click.echo(
            f"{path}: ok (pipeline {pipeline.id!r}: {len(pipeline.nodes)} nodes, "
            f"outputs {', '.join(pipeline.outputs)})"
        )
    return EXIT_PIPELINE if failed else EXIT_OK


# --------------------------------------------------------------------------- plugins


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plugin_facts(plugin: type[Plugin]) -> dict[str, Any]:
    return {
        "name": plugin.name,
        "description": plugin.description,
        "inputs": dict(plugin.inputs),
        "optional_inputs": sorted(plugin.optional_inputs),
        "outputs": dict(plugin.outputs),
        "params": {
            name: {
                "type": type_name(param.type),
                "required": param.required,
                "default": None if param.required else param.default,
                "help": param.help,
            }
            for name, param in plugin.params.items()
        },
        "history": plugin.history,
        "extras": sorted({extra for extra in plugin.requires.values() if extra}),
    }


@app.group("plugins", short_help="List the plugins pipelines can use.")
def plugins_group() -> None:
    """The plugins: built-in ones and those of installed packages (entry points)."""


@plugins_group.command("list", short_help="Every plugin with its parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@env_option
@debug_option
def plugins_list(as_json: bool, env: str | None) -> int:
    """List every plugin with its description, inputs, outputs and parameters.

    Parameters are shown as name: type = default (or "required"). Third-party plugins
    that failed to load are listed with the reason.
    """
    registry = create_container(env).plugin_registry()
    facts = []
    for name in registry.names():
        plugin = registry.get(name)
        if plugin is not None:
            facts.append(_plugin_facts(plugin))
    broken = dict(registry.errors)
    if as_json:
        _print_json({"plugins": facts, "broken": broken})
        return EXIT_OK
    table = Table("plugin", "description", "parameters")
    for plugin_facts in facts:
        params = [
            f"{name}: {_short(param['type'])} = "
            + ("required" if param["required"] else repr(param["default"]))
            for name, param in plugin_facts["params"].items()
        ]
        description = plugin_facts["description"]
        if plugin_facts["extras"]:
            description += f' (pip install "videopipe[{",".join(plugin_facts["extras"])}]")'
        add_text_row(table, plugin_facts["name"], description, "\n".join(params) or "-")
    for name, problem in broken.items():
        add_text_row(table, name, f"BROKEN: {problem}", "-")
    stdout_console().print(table)
    return EXIT_OK


__all__ = ["type_name"]
