"""``videopipe run --format`` / the output's extension, and ``--resume`` in every format."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import GATE_PLUGIN, clean_env, gate_site, script, videopipe, wait_for
from videopipe import results
from videopipe.adapters.sinks import encode_line
from videopipe.testing.media import make_video

HELD_AT = 7
REACHED = """
        if index >= self.config["at"] and os.path.exists(self.config["hold_file"]):
            open(self.config["hold_file"] + ".reached", "w").close()
        while index"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("formats") / "clip.mp4", frames=24)


def _lines(path: Path) -> list[bytes]:
    return [encode_line(video, item) for video, item in results.read_frames(str(path))]


@pytest.mark.parametrize("extension", [".jsonl", ".csv", ".parquet"])
def test_the_output_extension_chooses_the_format(tmp_path: Path, clip: Path, extension: str):
    env = {"VIDEOPIPE_ENV": "test"}
    reference = tmp_path / "reference.jsonl"
    assert videopipe("run", str(clip), "-p", "demo", "-o", str(reference), env=env).returncode == 0
    output = tmp_path / f"out{extension}"
    done = videopipe("run", str(clip), "-p", "demo", "-o", str(output), "--stats", env=env)
    assert done.returncode == 0, done.stderr
    assert _lines(output) == reference.read_bytes().splitlines(keepends=True)
    head = output.read_bytes()[:4]
    assert (head == b"PAR1") == (extension == ".parquet")
    if extension == ".jsonl":  # the stats line says what the file holds
        assert f"24 lines written to {output}" in done.stderr
    else:
        rows = len(list(results.read(str(output))))
        assert f"24 frames written to {output} ({rows} rows)" in done.stderr
        assert "lines written" not in done.stderr


def test_csv_streams_to_stdout_and_parquet_needs_a_file(tmp_path: Path, clip: Path):
    env = {"VIDEOPIPE_ENV": "test"}
    streamed = videopipe(
        "run", str(clip), "-p", "demo", "--max-frames", "2", "--format", "csv", env=env
    )
    assert streamed.returncode == 0, streamed.stderr
    lines = streamed.stdout.splitlines()
    assert lines[0] == ",".join(results.COLUMN_NAMES)
    assert len(lines) == 3
    refused = videopipe("run", str(clip), "-p", "demo", "--format", "parquet", env=env)
    assert refused.returncode == 2
    assert "--format parquet needs --output" in refused.stderr


def _held_run(args: list[str], env: dict[str, str], hold: Path, sig: signal.Signals) -> int:
    """Start a run, wait until the gate holds it, send ``sig``; its exit status."""
    reached = Path(str(hold) + ".reached")
    with subprocess.Popen(
        [script(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(env)
    ) as process:
        try:
            wait_for(reached.exists, what="the gate holding the run")
            time.sleep(0.2)
            process.send_signal(sig)
            time.sleep(0.5)
            hold.unlink(missing_ok=True)
            process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    return process.returncode


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
@pytest.mark.parametrize("extension", [".jsonl", ".csv", ".parquet"])
def test_an_interrupted_run_resumed_gives_the_uninterrupted_file(
    tmp_path: Path, clip: Path, extension: str, sig: signal.Signals
):
    hold = tmp_path / "hold"
    env = gate_site(tmp_path, hold, HELD_AT)
    plugin = tmp_path / "site" / "gate_plugin" / "__init__.py"
    plugin.write_text(GATE_PLUGIN.replace("\n        while index", REACHED, 1))
    second = make_video(tmp_path / "second.mp4", frames=6, width=64, height=48)
    args = ["run", str(second), str(clip), "-p", "gated", "--stride", "2"]
    uninterrupted = tmp_path / f"full{extension}"
    done = videopipe(*args, "-o", str(uninterrupted), env=env)
    assert done.returncode == 0, done.stderr
    assert len(_lines(uninterrupted)) == 3 + 12

    hold.touch()
    output = tmp_path / f"part{extension}"
    status = _held_run([*args, "-o", str(output)], env, hold, sig)
    assert status == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    if sig == signal.SIGINT:  # the run commits what it has: the first video and frames 0..6
        assert _lines(output) == _lines(uninterrupted)[: 3 + 4]

    resumed = videopipe(*args, "-o", str(output), "--resume", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == uninterrupted.read_bytes()
    assert not Path(str(output) + ".parts").exists()


@pytest.mark.parametrize("extension", [".csv", ".parquet"])
def test_resume_refuses_a_tabular_file_of_other_videos(tmp_path: Path, clip: Path, extension: str):
    env = {"VIDEOPIPE_ENV": "test"}
    other = make_video(tmp_path / "other.mp4", frames=3, width=64, height=48)
    output = tmp_path / f"out{extension}"
    assert videopipe("run", str(other), "-p", "demo", "-o", str(output), env=env).returncode == 0
    before = output.read_bytes()
    refused = videopipe("run", str(clip), "-p", "demo", "-o", str(output), "--resume", env=env)
    assert refused.returncode == 2
    assert "which is not among the videos given" in refused.stderr
    assert output.read_bytes() == before
