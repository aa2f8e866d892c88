"""The job manifest in SQLite (stdlib ``sqlite3``): ``DIR/manifest.sqlite``, table ``videos``.

Write-ahead logging (WAL) lets ``videopipe jobs show`` read while a batch writes; each
change is its own committed transaction, so a batch killed at any moment leaves every
row as it was last written (a ``running`` row of a killed batch is redone next time).
The schema is in docs/batch.md; ``meta`` holds ``schema_version`` and ``options_hash``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

from videopipe.domain.errors import ConfigurationError
from videopipe.ports.manifest import VIDEO_STATUSES, VideoEntry, VideoStatus

MANIFEST_NAME = "manifest.sqlite"
"""The manifest's file name in a batch's output directory."""
SCHEMA_VERSION = "1"
_COLUMNS = (
    "path",
    "size",
    "mtime",
    "options_hash",
    "status",
    "frames",
    "error",
    "output",
    "started",
    "ended",
    "attempts",
    "report",
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS videos (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    options_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in VIDEO_STATUSES)})),
    frames INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    output TEXT,
    started REAL,
    ended REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    report TEXT
);
"""


class ManifestError(ConfigurationError):
    """The file is not a videopipe manifest, or a newer one."""


class ManifestBusyError(ManifestError):
    """Another batch (another process) is writing the manifest of this directory."""


def _lock_directory(directory: str) -> int:
    """An open descriptor of ``directory`` holding its exclusive ``flock``."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ManifestBusyError(
            f"another batch is running on {directory!r} (its manifest is in use): wait for it "
            "to end, or give another --output-dir"
        ) from None
    return fd


class SqliteManifest:
    """A :class:`~videopipe.ports.manifest.JobManifest` in one SQLite file.

    ``create=False`` opens an existing manifest only (for reading it). A writer
    (``create=True``) holds an exclusive lock on the manifest's directory until
    :meth:`close`: a second batch on the same directory is refused (:class:`ManifestBusyError`)
    instead of both running the same videos and removing each other's ``.partial`` files.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = os.fspath(path)
        self._lock: int | None = None
        if not create and not os.path.isfile(self.path):
            raise ManifestError(f"no manifest at {self.path!r}")
        if create:
            self._lock = _lock_directory(os.path.dirname(os.path.abspath(self.path)))
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            # WAL + NORMAL: a commit is safe from a killed process (not from power loss)
            # without an fsync per row; the batch writes three rows per video.
            self._db.execute("PRAGMA synchronous=NORMAL")
            if create:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            version = self._meta("schema_version")
        except sqlite3.DatabaseError as exc:
            if self._lock is not None:
                os.close(self._lock)
            raise ManifestError(f"{self.path!r} is not a videopipe manifest: {exc}") from exc
        if version != SCHEMA_VERSION:
            self.close()
            raise ManifestError(
                f"{self.path!r} has manifest schema {version!r}; this videopipe reads "
                f"{SCHEMA_VERSION!r}"
            )

    @property
    def location(self) -> str:
        """The manifest file."""
        return self.path

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def options_hash(self) -> str | None:
        """The options the manifest was made with."""
        return self._meta("options_hash")

    def set_options_hash(self, value: str) -> None:
        """Record the options this batch runs with."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('options_hash', ?)", (value,))

    def entries(self) -> Sequence[VideoEntry]:
        """Every row, by path."""
        cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM videos ORDER BY path")
        return [_entry(row) for row in cursor.fetchall()]

    def get(self, path: str) -> VideoEntry | None:
        """The row of ``path``."""
        cursor = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM videos WHERE path = ?", (path,)
        )
        row = cursor.fetchone()
        return None if row is None else _entry(row)

    def put(self, entry: VideoEntry) -> None:
        """Insert or replace the row (autocommit: durable when this returns)."""
        error = None if entry.error is None else json.dumps(dict(entry.error), default=str)
        report = None if entry.report is None else json.dumps(dict(entry.report), default=str)
        values = (
            entry.path,
            entry.size,
            entry.mtime,
            entry.options_hash,
            entry.status,
            entry.frames,
            error,
            entry.output,
            entry.started,
            entry.ended,
            entry.attempts,
            report,
        )
        marks = ", ".join("?" for _ in _COLUMNS)
        self._db.execute(
            f"INSERT OR REPLACE INTO videos ({', '.join(_COLUMNS)}) VALUES ({marks})", values
        )

    def close(self) -> None:
        """Close the connection and release the directory (idempotent)."""
        self._db.close()
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None

    def __enter__(self) -> SqliteManifest:
        """The manifest, closed on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close."""
        self.close()


def _entry(row: tuple[Any, ...]) -> VideoEntry:
    values = dict(zip(_COLUMNS, row, strict=True))
    error, report = values["error"], values["report"]
    return VideoEntry(
        path=str(values["path"]),
        size=int(values["size"]),
        mtime=float(values["mtime"]),
        options_hash=str(values["options_hash"]),
        status=cast("VideoStatus", values["status"]),
        frames=int(values["frames"]),
        error=None if error is None else json.loads(error),
        output=values["output"],
        started=values["started"],
        ended=values["ended"],
        attempts=int(values["attempts"]),
        report=None if report is None else json.loads(report),
    )
