"""The README's and the guides' examples run as written, and the guides name what exists.

- Every ```python block of README.md and the hand-written guides in docs/ runs (from the
  repository root, with no VIDEOPIPE_* variable set). A block whose first line is
  ``# test_<name>.py`` is a user's test module instead: it runs under pytest in a fresh
  folder (with only the installed ``pytest11`` plugin) and every test in it must pass.
- Every ```yaml block holding a pipeline (a ``nodes:`` key) loads as a valid pipeline.
- Links between the documents resolve; the error, configuration and fixture names the
  guides list exist in the code.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (
    "README.md",
    "docs/quickstart.md",
    "docs/pipelines.md",
    "docs/plugins-guide.md",
    "docs/configuration.md",
    "docs/testing.md",
    "docs/errors.md",
    "docs/batch.md",
)
TEST_MODULE = re.compile(r"^# (test_\w+\.py)\n")
VARIABLES = ("VIDEOPIPE_ENV", "VIDEOPIPE_DECODER", "VIDEOPIPE_RUNNER", "VIDEOPIPE_CONFIG")


def blocks(language: str) -> list[tuple[str, int, str]]:
    """``(document, number, text)`` of every fenced block of ``language``."""
    found = []
    for document in DOCUMENTS:
        text = (REPO / document).read_text(encoding="utf-8")
        pattern = rf"^```{language}\n(.*?)^```"
        for number, block in enumerate(re.findall(pattern, text, flags=re.DOTALL | re.M)):
            found.append((document, number, block))
    return found


PYTHON = blocks("python")
SCRIPTS = [block for block in PYTHON if not TEST_MODULE.match(block[2])]
MODULES = [block for block in PYTHON if TEST_MODULE.match(block[2])]
PIPELINES = [block for block in blocks("yaml") if "nodes" in (yaml.safe_load(block[2]) or {})]


def ids(found: list[tuple[str, int, str]]) -> list[str]:
    return [f"{document}#{number}" for document, number, _ in found]


def test_every_document_has_examples() -> None:
    assert sum(document == "README.md" for document, _, _ in SCRIPTS) >= 3
    assert {document for document, _, _ in PYTHON} == set(DOCUMENTS)
    assert MODULES, "docs/testing.md shows a user's test module"
    assert PIPELINES, "docs/pipelines.md shows a pipeline"


@pytest.mark.parametrize("block", SCRIPTS, ids=ids(SCRIPTS))
def test_example_runs(block: tuple[str, int, str], monkeypatch: pytest.MonkeyPatch) -> None:
    document, number, text = block
    monkeypatch.chdir(REPO)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    exec(compile(text, f"{document}#{number}", "exec"), {"__name__": "example"})


@pytest.mark.parametrize("block", MODULES, ids=ids(MODULES))
def test_example_test_module_passes(
    block: tuple[str, int, str], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, text = block
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    match = TEST_MODULE.match(text)
    assert match is not None
    pytester.makepyfile(**{match.group(1).removesuffix(".py"): text})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=len(re.findall(r"^def test_", text, flags=re.M)))


@pytest.mark.parametrize("block", PIPELINES, ids=ids(PIPELINES))
def test_pipeline_example_is_valid(
    block: tuple[str, int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from videopipe.adapters.runners.dag import PipelineLibrary  # noqa: PLC0415

    _, number, text = block
    for variable in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text):
        monkeypatch.setenv(variable, "30")
    named = re.search(r"-> pipeline id \"([\w.-]+)\"", text)
    path = tmp_path / f"{named.group(1) if named else f'example{number}'}.yaml"
    path.write_text(text, encoding="utf-8")
    pipeline = PipelineLibrary().load_file(path)
    assert pipeline.nodes


def test_links_between_documents_resolve() -> None:
    for document in DOCUMENTS:
        text = (REPO / document).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (REPO / document).parent.joinpath(target).exists(), (document, target)


def test_the_error_guide_names_every_error_and_only_those() -> None:
    from videopipe.domain import errors  # noqa: PLC0415

    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.VideoPipeError)
    }
    guide = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    tree = guide[guide.index("```text") : guide.index("## What raises what")]
    assert set(re.findall(r"\b(\w+Error)\b", tree)) - _BUILTINS == defined
    table = guide[guide.index("## What raises what") : guide.index("## Errors from your")]
    assert set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M)) == defined - {"VideoPipeError"}


_BUILTINS = {
    "FileNotFoundError",
    "ValueError",
    "TimeoutError",
    "ImportError",
    "RuntimeError",
    "OSError",
}


def test_the_configuration_guide_names_existing_keys() -> None:
    base = yaml.safe_load((REPO / "src/videopipe/config/base.yaml").read_text(encoding="utf-8"))
    guide = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = guide[guide.index("## The keys") : guide.index("## Environment variables")]
    keys = re.findall(r"^\| `([\w.]+)` \|", table, flags=re.M)
    assert len(keys) >= 20
    for key in keys:
        value: Any = base
        for part in key.split("."):
            assert isinstance(value, dict), key
            assert part in value, key
            value = value[part]


def test_the_testing_guide_lists_every_fixture() -> None:
    source = (REPO / "src/videopipe/testing/plugin.py").read_text(encoding="utf-8")
    fixtures = set(re.findall(r"^@pytest\.fixture\ndef (\w+)\(", source, flags=re.M))
    assert len(fixtures) >= 9
    guide = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)[(`]", guide, flags=re.M))
    assert fixtures <= listed, fixtures - listed
