"""``videopipe jobs show MANIFEST``: a batch's manifest as a table (see docs/batch.md)."""

from __future__ import annotations

import datetime
import os

import click
from rich.table import Table

from videopipe.adapters.manifest import MANIFEST_NAME, SqliteManifest
from videopipe.cli.app import EXIT_OK, add_text_row, app, stdout_console


@app.group("jobs", short_help="Look at batch jobs (their manifests).")
def jobs_group() -> None:
    """Batch jobs: videopipe run PATH... --output-dir DIR keeps DIR/manifest.sqlite."""


@jobs_group.command("show", short_help="Print a batch's manifest: every video and its status.")
@click.argument("manifest", metavar="MANIFEST")
def jobs_show_command(manifest: str) -> int:
    """Print MANIFEST's table of videos (MANIFEST: the file, or the batch's output DIR)."""
    path = os.path.join(manifest, MANIFEST_NAME) if os.path.isdir(manifest) else manifest
    with SqliteManifest(path, create=False) as store:
        entries = store.entries()
    table = Table(title=f"{path}: {len(entries)} videos")
    columns = ("path", "status", "frames", "attempts", "started", "ended", "output", "error")
    for column in columns:
        table.add_column(column, overflow="fold")
    for entry in entries:
        error = (
            ""
            if entry.error is None
            else f"{entry.error.get('type')}: {entry.error.get('message')}"
        )
        add_text_row(
            table,
            entry.path,
            entry.status,
            str(entry.frames),
            str(entry.attempts),
            _time(entry.started),
            _time(entry.ended),
            entry.output or "",
            error,
        )
    stdout_console().print(table)
    return EXIT_OK


def _time(value: float | None) -> str:
    if value is None:
        return ""
    return datetime.datetime.fromtimestamp(value).isoformat(sep=" ", timespec="seconds")
