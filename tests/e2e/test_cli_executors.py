"""``videopipe run --executor NAME --workers N``: the same lines whatever the executor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import videopipe
from videopipe.testing.media import make_video


@pytest.fixture(scope="module")
def square_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(
        tmp_path_factory.mktemp("cli-executors") / "square.mp4",
        frames=30,
        width=160,
        height=120,
        content="moving_square",
    )


def lines(*args: str, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    done = videopipe("run", *args, env=env)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(
    "options",
    [["--executor", "prefetch"], ["--executor", "threads", "--workers", "2"], ["--workers", "3"]],
    ids=["prefetch", "threads-2", "auto-3"],
)
def test_every_executor_prints_the_sequential_lines(square_video: Path, options: list[str]) -> None:
    common = [str(square_video), "--pipeline", "motion", "--env", "dev"]
    expected = lines(*common, "--executor", "sequential")
    assert len(expected) == 30
    assert sum(bool(line["result"]["motion"]["moving"]) for line in expected) > 20  # type: ignore[index]
    assert lines(*common, *options) == expected


def test_the_options_override_the_environment_variables(square_video: Path) -> None:
    common = [str(square_video), "--pipeline", "motion", "--env", "dev", "--max-frames", "5"]
    bad = {"VIDEOPIPE_EXECUTOR": "turbo"}
    refused = videopipe("run", *common, env=bad)
    assert refused.returncode == 2
    assert "executor='turbo'" in refused.stderr
    assert "valid values: auto, sequential" in refused.stderr
    assert len(lines(*common, "--executor", "threads", env=bad)) == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--executor", "turbo"], "--executor"), (["--workers", "0"], "--workers")],
)
def test_invalid_options_are_usage_errors(
    square_video: Path, options: list[str], message: str
) -> None:
    done = videopipe("run", str(square_video), "--pipeline", "motion", *options)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_bench_takes_the_executor_options(square_video: Path) -> None:
    done = videopipe(
        "bench", str(square_video), "--frames", "10", "--pipeline", "motion",
        "--decoder", "imageio_ffmpeg", "--executor", "threads", "--workers", "2", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {row["what"]: row for row in json.loads(done.stdout)}
    assert rows["pipeline motion (dag runner)"]["frames"] == 10
