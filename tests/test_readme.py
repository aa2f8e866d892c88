"""The README's Python examples run as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for name in ("VIDEOPIPE_ENV", "VIDEOPIPE_DECODER", "VIDEOPIPE_RUNNER", "VIDEOPIPE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
