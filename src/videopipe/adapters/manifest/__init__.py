"""Job manifests: where a batch records each video's status (SQLite)."""

from __future__ import annotations

from videopipe.adapters.manifest.sqlite import MANIFEST_NAME, SqliteManifest

__all__ = ["MANIFEST_NAME", "SqliteManifest"]
