"""The progress bar and summary: on stderr when it is a terminal, never when piped."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from pathlib import Path

from tests.e2e.helpers import clean_env, script, videopipe


def run_with_terminal_stderr(*args: str, stdout_too: bool = False) -> tuple[int, str, str]:
    """Run the script with stderr on a pseudo-terminal and stdout on a pipe (or on it too)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [script(), *args],
            stdout=terminal if stdout_too else subprocess.PIPE,
            stderr=terminal,
            env=clean_env({"TERM": "xterm", "COLUMNS": "120"}),
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
    assert any("motion" in row and "intervals" in row for row in table), table


def test_no_stats_silences_a_terminal_summary(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr(
        "run", str(indexed_video), "-p", "motion", "--no-stats"
    )
    assert code == 0
    assert "30/30" in terminal
    assert "videopipe: 30 frames" not in terminal
    assert "intervals" not in terminal  # nor the summary table


def test_a_terminal_run_ends_with_the_summary_table(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr("run", str(indexed_video), "-p", "motion")
    assert code == 0
    assert "videopipe: 30 frames" in terminal
    header = next(line for line in terminal.splitlines() if "skipped" in line)
    assert all(column in header for column in ("video", "frames", "node", "summary"))
    assert any("motion" in line and "intervals" in line for line in terminal.splitlines())


def test_lines_printed_to_the_terminal_replace_the_bar(indexed_video: Path) -> None:
    code, _, terminal = run_with_terminal_stderr(
        "run", str(indexed_video), "-p", "demo", "--env", "test", stdout_too=True
    )
    assert code == 0
    assert terminal.count('{"video": ') == 30
    assert "ETA" not in terminal
    assert "videopipe: 30 frames of 1 video in " in terminal
