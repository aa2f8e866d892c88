"""Helpers of the end-to-end tests: run the installed console script, watch its processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

GATE_PLUGIN = '''
import os
import time

from videopipe.ports.plugins import Param, Plugin


class Gate(Plugin):
    """Holds frames from ``at`` on while ``hold_file`` exists (a deterministic pause)."""

    name = "gate"
    inputs = {"frame_index": "the frame's index"}
    outputs = {"frame": "the frame's index"}
    params = {"hold_file": Param(str, help="path"), "at": Param(int, 0, "first held frame")}

    def process(self, inputs, context, history=()):
        index = int(inputs["frame_index"])
        while index >= self.config["at"] and os.path.exists(self.config["hold_file"]):
            time.sleep(0.02)
        return {"frame": index}
'''


def script() -> str:
    executable = shutil.which("videopipe")
    assert executable, "the videopipe console script is not installed"
    return executable


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without any VIDEOPIPE_ setting, plus ``extra``."""
    merged = {key: value for key, value in os.environ.items() if not key.startswith("VIDEOPIPE_")}
    merged.update(extra or {})
    return merged


def videopipe(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``videopipe`` script to completion."""
    return subprocess.run(
        [script(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        check=False,
    )


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def interrupt_after(
    args: Sequence[str],
    output: Path,
    lines: int,
    sig: signal.Signals,
    env: dict[str, str],
    after_signal: Callable[[], object] | None = None,
) -> tuple[subprocess.CompletedProcess[str], set[int]]:
    """Start a run, wait until ``output`` holds ``lines`` lines, send ``sig``.

    ``after_signal`` runs once the signal is sent (to release a held runner call that
    an executor's worker thread must finish before the process can exit). Returns the
    finished process and the descendants it had when the signal was sent.
    """
    with subprocess.Popen(
        [script(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(env),
    ) as process:
        try:
            wait_for(lambda: line_count(output) >= lines, what=f"{lines} lines in {output}")
            time.sleep(0.2)  # the run is held: nothing more may arrive
            descendants = children(process.pid)
            process.send_signal(sig)
            if after_signal is not None:
                time.sleep(0.5)  # the main thread has stopped writing by now
                after_signal()
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done, descendants


def gate_site(tmp_path: Path, hold_file: Path, at: int) -> dict[str, str]:
    """Environment variables giving a run the ``gate`` plugin and pipeline ``gated``.

    A site directory holds the plugin (an entry point, found through PYTHONPATH);
    pipeline ``gated`` runs ``motion`` (stateful) then the gate, which holds frames
    from ``at`` on while ``hold_file`` exists.
    """
    site = tmp_path / "site"
    (site / "gate_plugin").mkdir(parents=True, exist_ok=True)
    (site / "gate_plugin" / "__init__.py").write_text(GATE_PLUGIN)
    info = site / "gate_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gate-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[videopipe.plugins]\ngate = gate_plugin:Gate\n")

    pipelines = tmp_path / "pipelines"
    pipelines.mkdir(exist_ok=True)
    (pipelines / "gated.yaml").write_text(
        "nodes:\n"
        "  motion: {plugin: motion}\n"
        f"  gate: {{plugin: gate, params: {{hold_file: {str(hold_file)!r}, at: {at}}}}}\n"
        "outputs: [motion, gate]\n"
    )
    return {
        "PYTHONPATH": str(site),
        "VIDEOPIPE_PIPELINE_PATH": str(pipelines),
        "VIDEOPIPE_ENV": "dev",
    }
