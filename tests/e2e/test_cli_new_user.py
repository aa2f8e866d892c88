"""What a new user ran into, run as the installed script: pipelines by file, usage errors,
the failure line and third-party log lines on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import videopipe
from videopipe.testing.media import make_video

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
MINE = "nodes:\n  mine:\n    plugin: motion\n"


def _nodes(stdout: str) -> set[str]:
    return {node for line in stdout.splitlines() for node in json.loads(line)["result"]}


@pytest.mark.parametrize("executor", ["sequential", "segments"])
def test_a_pipeline_file_runs_by_path_even_where_an_id_is_shipped(
    tmp_path: Path, indexed_video: Path, executor: str
) -> None:
    (tmp_path / "motion.yaml").write_text(MINE)  # the shipped "motion" is not used
    done = videopipe(
        "run", str(indexed_video), "-p", str(tmp_path / "motion.yaml"),
        "--executor", executor, "--workers", "2", "--max-frames", "12",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 12
    assert _nodes(done.stdout) == {"mine"}  # workers load the same file


def test_pipeline_path_adds_directories_for_run_show_validate_and_bench(
    tmp_path: Path, indexed_video: Path
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (second / "extra.yml").write_text(MINE)
    search = ["--pipeline-path", str(first), "--pipeline-path", str(second)]
    done = videopipe("run", str(indexed_video), "-p", "extra", "--max-frames", "3", *search)
    assert done.returncode == 0, done.stderr
    assert _nodes(done.stdout) == {"mine"}
    shown = videopipe("pipelines", "show", "extra", "--json", *search)
    assert json.loads(shown.stdout)["file"] == str(second / "extra.yml")
    assert videopipe("pipelines", "show", "extra").returncode == 4  # not without it
    valid = videopipe("pipelines", "validate", "extra", *search)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("extra: ok (pipeline 'extra': 1 nodes")
    bench = videopipe(
        "bench", str(indexed_video), "--frames", "5", "--decoder", "pyav",
        "-p", "extra", "-p", str(second / "extra.yml"), "--json", *search,
    )  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    rows = {row["what"]: row for row in json.loads(bench.stdout)}
    assert rows["pipeline extra (dag runner)"]["frames"] == 5
    missing = videopipe("run", str(indexed_video), "-p", "extra", "--pipeline-path", "nope")
    assert missing.returncode == 2
    assert "'--pipeline-path': Directory 'nope' does not exist" in missing.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["run", "{video}", "-p", "gone.yaml"],
            4,
            "videopipe: error: Pipeline file not found: 'gone.yaml' (no such file)",
        ),
        (
            ["run", "{video}", "-p", "./gone/p"],
            4,
            "videopipe: error: Invalid pipeline './gone/p': no such pipeline file, and a "
            "pipeline id is a name",
        ),
        (
            ["run", "{video}", "-p", "motion", "--max-frames", "0"],
            2,
            "videopipe: error: Invalid value for '--max-frames': must be a whole number >= 1, "
            "not 0 (a run of no frames would do nothing and succeed) "
            "(see 'videopipe run --help')",
        ),
        (
            ["bench", "{video}", "--frames", "0"],
            2,
            "videopipe: error: Invalid value for '--frames': must be a whole number >= 1, not 0",
        ),
        (
            ["bench", "{video}", "-p", "unknown", "--frames", "3"],
            4,
            "videopipe: error: Pipeline not found: 'unknown'. Known pipelines: ",
        ),
    ],
)
def test_mistakes_are_errors_not_silent_successes(
    indexed_video: Path, args: list[str], code: int, message: str
) -> None:
    done = videopipe(*(arg.format(video=indexed_video) for arg in args))
    assert done.returncode == code, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(message)
    assert done.stdout == ""


@pytest.mark.parametrize("executor", ["sequential", "segments"])
def test_a_runner_failure_is_one_line_naming_pipeline_file_frame_and_time(
    tmp_path: Path, indexed_video: Path, executor: str
) -> None:
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure: {fail_at: [7], message: boom}\n")
    done = videopipe(
        "run", str(indexed_video), "-p", "motion", "--executor", executor, "--workers", "2",
        env={"VIDEOPIPE_CONFIG": str(config)},
    )  # fmt: skip
    assert done.returncode == 5
    (line,) = done.stderr.splitlines()
    assert line.startswith("videopipe: error: RuntimeError: boom")
    assert line.endswith(
        "(raised by FailureInjectingRunner.run_pipeline for pipeline 'motion' on frame 7 "
        f"(t=0.280000s) of {str(indexed_video)!r})"
    )


@pytest.fixture(scope="module")
def blank_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames without text: RapidOCR warns on each one."""
    return make_video(
        tmp_path_factory.mktemp("blank") / "blank.mp4",
        frames=4, width=160, height=120, content="solid",
    )  # fmt: skip


@pytest.mark.parametrize("executor", ["sequential", "segments"])
def test_rapidocr_per_frame_warnings_reach_stderr_only_with_debug(
    blank_video: Path, executor: str
) -> None:
    args = ["run", str(blank_video), "-p", "text", "--executor", executor, "--workers", "2"]
    quiet = videopipe(*args)
    assert quiet.returncode == 0, quiet.stderr
    assert len(quiet.stdout.splitlines()) == 4
    assert quiet.stderr == ""
    loud = videopipe(*args, "--debug")
    assert loud.returncode == 0, loud.stderr
    assert "[RapidOCR]" in loud.stderr  # what --debug keeps, and the quiet run drops
    assert loud.stdout == quiet.stdout


@pytest.mark.parametrize(
    ("pipeline", "video"), [("people", "vtest.avi"), ("faces", "Megamind.avi")]
)
def test_opencv_pipelines_on_real_footage_leave_stderr_empty(pipeline: str, video: str) -> None:
    done = videopipe("run", str(OPENCV_DATA / video), "-p", pipeline, "--max-frames", "15")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 15
    assert done.stderr == ""


def test_dask_workers_stay_quiet_too(blank_video: Path) -> None:
    done = videopipe(
        "run", str(blank_video), "-p", "text", "--executor", "dask", "--workers", "2",
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4
    assert done.stderr == ""
