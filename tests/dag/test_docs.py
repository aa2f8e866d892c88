"""docs/plugins.md is the plugin classes' own description, regenerated."""

from __future__ import annotations

import runpy
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_plugin_reference_is_up_to_date() -> None:
    script = runpy.run_path(str(REPO / "scripts" / "plugin_reference.py"))
    written = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert written == script["render"](), "run: python scripts/plugin_reference.py"


def test_every_shipped_pipeline_is_documented_in_the_readme() -> None:
    from videopipe.adapters.runners.dag import PipelineLibrary  # noqa: PLC0415

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for pipeline_id in PipelineLibrary().ids():
        assert f"`{pipeline_id}`" in readme, pipeline_id
