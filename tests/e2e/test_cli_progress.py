"""The progress bar and summary: on stderr when it is a terminal, never when piped."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import clean_env, script, videopipe
from videopipe.testing.media import make_video


def run_with_terminal_stderr(
    *args: str, stdout_too: bool = False, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the script with stderr on a pseudo-terminal and stdout on a pipe (or on it too)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [script(), *args],
            stdout=terminal if stdout_too else subprocess.PIPE,
            stderr=terminal,
            env=clean_env({"TERM": "xterm", "COLUMNS": "120", **(env or {})}),
        )
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                process.kill()
                raise AssertionError("no output from the terminal for 60 s")
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            seen += chunk
        stdout = ""
        if process.stdout is not None:
            stdout = process.stdout.read().decode()
            process.stdout.close()
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    return code, stdout, seen.decode("utf-8", "replace")


def test_a_terminal_gets_a_progress_bar_and_a_summary(indexed_video: Path) -> None:
    code, stdout, terminal = run_with_terminal_stderr(
        "run", str(indexed_video), "-p", "motion", "--stride", "2"
    )
    assert code == 0, terminal
    lines = [json.loads(line) for line in stdout.splitlines()]  # stdout: JSON only
    assert [line["frame_index"] for line in lines] == list(range(0, 30, 2))
    assert "15/15" in terminal  # total = the video's 30 frames at stride 2
    assert "frames/s" in terminal
    assert "ETA" in terminal
    assert "videopipe: 15 frames of 1 video in " in terminal
    assert "0 errors" in terminal


def test_a_piped_run_has_no_progress_and_no_summary(indexed_video: Path, tmp_path: Path) -> None:
    output = tmp_path / "r.jsonl"
    done = videopipe("run", str(indexed_video), "-p", "motion", "-o", str(output))
    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr == ""
    forced = videopipe("run", str(indexed_video), "-p", "motion", "-o", str(output), "--stats")
    summary, *table = forced.stderr.splitlines()
    assert summary.startswith("videopipe: 30 frames of 1 video in ")
    assert f"30 lines written to {output}" in summary
    assert "\x1b" not in forced.stderr  # plain text, no terminal codes
    assert any("motion" in row and "1 interval, 29 frames" in row for row in table), table


def test_no_stats_silences_a_terminal_summary(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr(
        "run", str(indexed_video), "-p", "motion", "--no-stats"
    )
    assert code == 0
    assert "30/30" in terminal
    assert "videopipe: 30 frames" not in terminal
    assert "interval" not in terminal  # nor the summary table


def test_a_terminal_run_ends_with_the_summary_table(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr("run", str(indexed_video), "-p", "motion")
    assert code == 0
    assert "videopipe: 30 frames" in terminal
    header = next(line for line in terminal.splitlines() if "skipped" in line)
    assert all(column in header for column in ("video", "frames", "node", "summary"))
    rows = terminal.splitlines()
    assert any("motion" in line and "1 interval, 29 frames" in line for line in rows)


def test_lines_printed_to_the_terminal_replace_the_bar(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr(
        "run", str(indexed_video), "-p", "demo", "--env", "test", stdout_too=True
    )
    assert code == 0
    assert terminal.count('{"video": ') == 30
    assert "ETA" not in terminal
    assert "videopipe: 30 frames of 1 video in " in terminal


@pytest.mark.parametrize("suffix", [".mkv", ".ts"])
def test_a_container_without_a_frame_count_gets_an_estimated_total_and_eta(
    tmp_path: Path, suffix: str
) -> None:
    video = make_video(tmp_path / f"no-count{suffix}", frames=30, width=64, height=48)
    assert videopipe("probe", str(video), "--json").stdout.count('"frame_count": null') == 1
    config = tmp_path / "slow.yaml"  # slow enough for the bar to be drawn mid-run
    config.write_text("runner: latency\nrunners:\n  latency: {latency_seconds: 0.06}\n")
    code, _, terminal = run_with_terminal_stderr(
        "run",
        str(video),
        "-p",
        "demo",
        "--executor",
        "sequential",
        env={"VIDEOPIPE_CONFIG": str(config)},
    )
    assert code == 0, terminal
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    # Mid-run the bar has the estimated total (duration x fps = 30) and a time left.
    assert re.search(r"\b([1-9]|1\d|2\d)/30\b", plain), plain
    assert re.search(r"ETA 0:00:0[1-9]", plain), plain
    assert "30/30" in terminal
    assert "/?" not in terminal
