"""End-to-end tests of the installed ``videopipe`` console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from videopipe import VideoFilePipelineService
from videopipe.testing import MockDagPipelineService, write_corrupted_mp4

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample.mp4"


def videopipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("videopipe")
    assert executable, "the videopipe console script is not installed"
    merged = {key: value for key, value in os.environ.items() if not key.startswith("VIDEOPIPE_")}
    merged.update(env or {})
    return subprocess.run(
        [executable, *args], capture_output=True, text=True, timeout=120, env=merged, check=False
    )


def test_run_prints_one_json_line_per_frame_matching_the_library(indexed_video: Path) -> None:
    done = videopipe(
        "run", str(indexed_video), "--pipeline", "demo", "--stride", "4", "--env", "test"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    library = VideoFilePipelineService(MockDagPipelineService(), frame_stride=4).run_on_file(
        "demo", indexed_video
    )
    assert [(line["frame_index"], line["result"]) for line in lines] == [
        (item["frame_index"], item["result"]) for item in library
    ]
    assert [line["timestamp"] for line in lines] == [
        round(index / 25, 6) for index in range(0, 30, 4)
    ]
    assert {line["video"] for line in lines} == {str(indexed_video)}
    assert done.stderr == ""


def test_the_shipped_sample_runs_with_the_default_configuration() -> None:
    done = videopipe("run", str(SAMPLE), "--pipeline", "motion")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["frame_index"] for line in lines] == list(range(100))
    assert lines[0]["result"] == {"motion": {"score": 0.0, "moving": False, "box": None}}
    assert all(line["result"]["motion"]["moving"] for line in lines[1:])


def test_python_dash_m_works_like_the_script(indexed_video: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "videopipe",
            "run",
            str(indexed_video),
            "-p",
            "motion",
            "--max-frames",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["frame_index"] for line in done.stdout.splitlines()] == [0, 1]


def test_opencv_decoder_gives_the_same_lines(indexed_video: Path) -> None:
    default = videopipe("run", str(indexed_video), "-p", "motion")
    opencv = videopipe("run", str(indexed_video), "-p", "motion", "--decoder", "opencv")
    assert opencv.returncode == 0, opencv.stderr
    assert len(opencv.stdout.splitlines()) == 30
    assert opencv.stdout == default.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "missing.mp4", "-p", "demo"], 3, "Video file not found"),
        (["run", "{video}", "-p", "nope"], 4, "Pipeline not found: 'nope'. Known pipelines: "),
        (["run", "{video}", "-p", "../etc/passwd"], 4, "a pipeline id is a name"),
        (["run", "{corrupt}", "-p", "demo"], 3, "Unable to read video file"),
        (["run", "{video}", "-p", "demo", "--stride", "0"], 2, "must be >= 1"),
        (["run", "{video}", "-p", "demo", "--env", "staging"], 2, "invalid choice"),
        (
            ["run", "{video}", "-p", "demo", "--decoder", "gstreamer"],
            2,
            "valid values: imageio_ffmpeg, opencv",
        ),
    ],
)
def test_errors_give_one_line_and_a_distinct_exit_code(
    tmp_path: Path, indexed_video: Path, args: list[str], code: int, message: str
) -> None:
    corrupt = write_corrupted_mp4(tmp_path / "corrupt.mp4")
    filled = [arg.format(corrupt=corrupt, video=indexed_video) for arg in args]
    done = videopipe(*filled)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_runner_failure_exits_5_after_the_frames_already_printed(
    indexed_video: Path, tmp_path: Path
) -> None:
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure:\n    fail_at: [2]\n")
    done = videopipe("run", str(indexed_video), "-p", "demo", env={"VIDEOPIPE_CONFIG": str(config)})
    assert done.returncode == 5
    assert [json.loads(line)["frame_index"] for line in done.stdout.splitlines()] == [0, 1]
    assert "RuntimeError: injected failure (frame 2" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_describes_run() -> None:
    done = videopipe("run", "--help")
    assert done.returncode == 0
    assert "--pipeline" in done.stdout
    assert "--max-frames" in done.stdout
