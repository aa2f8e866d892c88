"""End-to-end tests of the installed ``videopipe`` console script: ``run`` and errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest

from tests.e2e.helpers import (
    alive,
    children,
    clean_env,
    script,
    videopipe,
    wait_for,
)
from videopipe.container import create_container
from videopipe.testing import write_corrupted_mp4
from videopipe.testing.media import make_video

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample.mp4"


def library_lines(
    env: str, pipeline: str, video: Path, overrides: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """What the library gives for ``video``, in the CLI's line shape (JSON round trip)."""
    service = create_container(env, overrides=overrides).video_service()
    lines = []
    for item in service.iter_frame_results(pipeline, video):
        line = {
            "video": str(video),
            "frame_index": item.frame_index,
            "timestamp": item.timestamp,
            "result": item.result,
        }
        if item.error is not None:
            line["error"] = item.error
        lines.append(json.loads(json.dumps(line)))
    return lines


def parsed(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_run_prints_one_json_line_per_frame_matching_the_library(indexed_video: Path) -> None:
    done = videopipe(
        "run", str(indexed_video), "--pipeline", "demo", "--stride", "4", "--env", "test"
    )
    assert done.returncode == 0, done.stderr
    assert parsed(done.stdout) == library_lines("test", "demo", indexed_video, {"frame_stride": 4})
    assert [line["timestamp"] for line in parsed(done.stdout)] == [
        round(index / 25, 6) for index in range(0, 30, 4)
    ]
    assert done.stderr == ""  # piped: nothing but JSON lines on stdout, nothing on stderr


def test_a_dag_pipeline_run_matches_the_library(indexed_video: Path) -> None:
    done = videopipe("run", str(indexed_video), "-p", "motion", "--max-frames", "12")
    assert done.returncode == 0, done.stderr
    lines = parsed(done.stdout)
    assert lines == library_lines("dev", "motion", indexed_video, {"max_frames": 12})
    assert len(lines) == 12
    assert any(line["result"]["motion"]["moving"] for line in lines)


def test_several_videos_run_one_after_another_each_line_naming_its_video(
    tmp_path: Path, indexed_video: Path
) -> None:
    other = make_video(tmp_path / "other.mkv", frames=7, width=64, height=48)
    done = videopipe("run", str(indexed_video), str(other), "-p", "scenes", "--stride", "2")
    assert done.returncode == 0, done.stderr
    overrides = {"frame_stride": 2}
    assert parsed(done.stdout) == library_lines(
        "dev", "scenes", indexed_video, overrides
    ) + library_lines("dev", "scenes", other, overrides)


def test_output_file_gets_the_same_lines_as_stdout(tmp_path: Path, indexed_video: Path) -> None:
    to_stdout = videopipe("run", str(indexed_video), "-p", "motion")
    output = tmp_path / "results.jsonl"
    to_file = videopipe("run", str(indexed_video), "-p", "motion", "-o", str(output))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    assert to_file.stderr == ""
    assert output.read_text() == to_stdout.stdout


def test_on_error_skip_records_the_failed_frame_and_goes_on(
    tmp_path: Path, indexed_video: Path
) -> None:
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure:\n    fail_at: [2]\n")
    done = videopipe(
        "run",
        str(indexed_video),
        "-p",
        "demo",
        "--max-frames",
        "4",
        "--on-error",
        "skip",
        "--stats",
        env={"VIDEOPIPE_CONFIG": str(config)},
    )
    assert done.returncode == 0, done.stderr
    lines = parsed(done.stdout)
    assert [line["frame_index"] for line in lines] == [0, 1, 2, 3]
    assert lines[2]["result"] is None
    assert lines[2]["error"]["type"] == "RuntimeError"
    assert "error" not in lines[1]
    (summary,) = done.stderr.splitlines()
    assert summary.startswith("videopipe: 4 frames of 1 video in ")
    assert "; 1 error" in summary


def test_the_shipped_sample_runs_with_the_default_configuration() -> None:
    done = videopipe("run", str(SAMPLE), "--pipeline", "motion", "--max-frames", "3")
    assert done.returncode == 0, done.stderr
    lines = parsed(done.stdout)
    assert [line["frame_index"] for line in lines] == [0, 1, 2]
    assert lines[0]["result"] == {"motion": {"score": 0.0, "moving": False, "box": None}}
    assert all(line["result"]["motion"]["moving"] for line in lines[1:])


def test_python_dash_m_works_like_the_script(indexed_video: Path) -> None:
    def module(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "videopipe", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=clean_env(),
        )

    args = ["run", str(indexed_video), "-p", "motion", "--max-frames", "5"]
    assert module(*args).stdout == videopipe(*args).stdout
    assert len(module(*args).stdout.splitlines()) == 5
    failing = module("run", "missing.mp4", "-p", "motion")
    assert (failing.returncode, failing.stderr) == (
        3,
        "videopipe: error: Video file not found: 'missing.mp4'\n",
    )
    assert module("--help").stdout == videopipe("--help").stdout


def test_opencv_decoder_gives_the_same_lines(indexed_video: Path) -> None:
    default = videopipe("run", str(indexed_video), "-p", "motion")
    opencv = videopipe("run", str(indexed_video), "-p", "motion", "--decoder", "opencv")
    assert opencv.returncode == 0, opencv.stderr
    assert len(opencv.stdout.splitlines()) == 30
    assert opencv.stdout == default.stdout


BROKEN_PIPELINE = "nodes:\n  m:\n    plugin: motion\n    params: {treshold: 3}\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "{video}", "-p", "demo", "--stride", "0"], 2, "0 is not in the range x>=1"),
        (["run", "{video}", "-p", "demo", "--env", "staging"], 2, "'staging' is not one of"),
        (["run", "{video}", "-p", "demo", "--decoder", "gst"], 2, "'gst' is not one of"),
        (["run", "{video}"], 2, "Missing option '--pipeline'"),
        (["run", "{video}", "-p", "demo", "--frobnicate"], 2, "No such option '--frobnicate'"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
        (["run", "{video}", "-p", "demo", "--resume"], 2, "--resume needs --output"),
        (["run", "missing.mp4", "-p", "demo"], 3, "Video file not found: 'missing.mp4'"),
        (["run", "{corrupt}", "-p", "demo"], 3, "Unable to read video file"),
        (["run", "{directory}/pipelines", "-p", "demo"], 2, "no video files under directory"),
        (["run", "{video}", "-p", "nope"], 4, "Pipeline not found: 'nope'. Known pipelines: "),
        (["run", "{video}", "-p", "../etc/passwd"], 4, "a pipeline id is a name"),
        (["run", "{video}", "-p", "broken"], 4, "unknown parameter 'treshold'"),
        (["run", "{video}", "-p", "demo", "-o", "/nonexistent/r.jsonl"], 6, "cannot write"),
        (["probe", "missing.mp4"], 3, "Video file not found"),
        (["pipelines", "show", "nope"], 4, "Pipeline not found: 'nope'"),
    ],
)
def test_each_error_kind_gives_its_exit_code_and_one_line(
    tmp_path: Path, indexed_video: Path, args: list[str], code: int, message: str
) -> None:
    corrupt = write_corrupted_mp4(tmp_path / "corrupt.mp4")
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    (pipelines / "broken.yaml").write_text(BROKEN_PIPELINE)
    filled = [arg.format(corrupt=corrupt, video=indexed_video, directory=tmp_path) for arg in args]
    env = {"VIDEOPIPE_PIPELINE_PATH": str(pipelines)}
    if "demo" in filled:
        env["VIDEOPIPE_ENV"] = "test"
    done = videopipe(*filled, env=env)
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("videopipe: error: ")
    assert message in done.stderr
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
    assert len(done.stderr.splitlines()) == 1


def test_debug_shows_the_traceback(indexed_video: Path) -> None:
    done = videopipe("run", str(indexed_video), "-p", "nope", "--debug")
    assert done.returncode == 4
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("videopipe: error: Pipeline not found")


def _held_run(tmp_path: Path, video: Path, *extra: str) -> subprocess.Popen[str]:
    config = tmp_path / "hang.yaml"
    # The ffmpeg decoder: its process is what the signal tests watch being stopped.
    config.write_text(
        "decoder: imageio_ffmpeg\nrunner: failure\n"
        "runners:\n  failure: {fail_at: [3], action: hang, hang_seconds: 60}\n"
    )
    return subprocess.Popen(
        [script(), "run", str(video), "-p", "demo", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env({"VIDEOPIPE_CONFIG": str(config), "VIDEOPIPE_ENV": "test"}),
    )


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [
        (signal.SIGINT, 130, "videopipe: interrupted"),
        (signal.SIGTERM, 143, "videopipe: terminated"),
    ],
)
def test_a_signal_stops_the_run_promptly_keeping_whole_lines_and_no_ffmpeg(
    tmp_path: Path, sig: signal.Signals, code: int, message: str
) -> None:
    video = make_video(tmp_path / "big.mp4", frames=40)  # 40 x 230 kB: ffmpeg stays blocked
    with _held_run(tmp_path, video) as process:
        assert process.stdout is not None
        first = [process.stdout.readline() for _ in range(3)]  # frames 0-2; frame 3 hangs
        descendants = children(process.pid)
        assert descendants
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == code
    assert stderr.splitlines() == [message]
    assert [json.loads(line)["frame_index"] for line in first] == [0, 1, 2]
    assert stdout == ""
    wait_for(lambda: not any(alive(pid) for pid in descendants), timeout=10, what="no ffmpeg")


def test_a_closed_stdout_ends_the_run_quietly(tmp_path: Path) -> None:
    video = make_video(tmp_path / "big.mp4", frames=40)
    with subprocess.Popen(
        [script(), "run", str(video), "-p", "demo", "--env", "test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert json.loads(process.stdout.readline())["frame_index"] == 0
        descendants = children(process.pid)
        process.stdout.close()  # like `| head -1`
        stderr = process.stderr.read()
        process.wait(timeout=30)
    assert process.returncode == 0
    assert stderr == b""
    wait_for(lambda: not any(alive(pid) for pid in descendants), timeout=10, what="no ffmpeg")


COMMANDS = {
    (): ["run", "probe", "pipelines", "plugins", "bench", "Exit codes"],
    ("run",): ["--pipeline", "--stride", "--max-frames", "--output", "--annotate", "--resume"],
    ("probe",): ["VIDEO", "--json", "--decoder"],
    ("pipelines",): ["list", "show", "validate"],
    ("pipelines", "list"): ["--json"],
    ("pipelines", "show"): ["ID", "--json"],
    ("pipelines", "validate"): ["FILE...", "exits 4"],
    ("plugins",): ["list"],
    ("plugins", "list"): ["--json", "parameters"],
    ("bench",): ["[VIDEO]", "--frames", "--pipeline", "--decoder", "--size"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=lambda c: " ".join(c) or "videopipe")
def test_help_describes_every_command(command: tuple[str, ...]) -> None:
    done = videopipe(*command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith(f"Usage: {' '.join(('videopipe', *command))} ")
    for word in COMMANDS[command]:
        assert word in done.stdout, word


def test_ctrl_c_keeps_a_playable_annotated_video_of_the_frames_done(tmp_path: Path) -> None:
    video = make_video(tmp_path / "big.mp4", frames=40)
    annotated = tmp_path / "annotated.mp4"
    with _held_run(tmp_path, video, "--annotate", str(annotated)) as process:
        assert process.stdout is not None
        first = [process.stdout.readline() for _ in range(3)]
        descendants = children(process.pid)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130
    assert stderr.splitlines() == ["videopipe: interrupted"]
    assert len(first) == 3
    wait_for(lambda: not any(alive(pid) for pid in descendants), timeout=10, what="no ffmpeg")
    with av.open(str(annotated)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3
