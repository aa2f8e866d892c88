"""Interrupting ``videopipe run`` (Ctrl-C, SIGKILL) and continuing it with ``--resume``."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.e2e.helpers import alive, gate_site, interrupt_after, videopipe, wait_for
from videopipe.testing.media import make_video

HELD_AT = 7  # the gate holds frame 7 (and later ones) while its file exists


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 frames that differ (motion's results depend on history); 320x240 frames are
    big enough that ffmpeg is still running, blocked on the full pipe, when a run is held.
    """
    return make_video(tmp_path_factory.mktemp("resume") / "clip.mp4", frames=24)


@pytest.mark.parametrize("executor", ["sequential", "auto"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_an_interrupted_stateful_run_resumed_gives_the_uninterrupted_file(
    tmp_path: Path, clip: Path, sig: signal.Signals, executor: str
) -> None:
    hold = tmp_path / "hold"
    # The ffmpeg decoder: its process is what the interrupted run is checked to stop.
    env = {**gate_site(tmp_path, hold, HELD_AT), "VIDEOPIPE_DECODER": "imageio_ffmpeg"}
    args = ["run", str(clip), "-p", "gated", "--stride", "2"]
    uninterrupted = tmp_path / "full.jsonl"
    done = videopipe(*args, "-o", str(uninterrupted), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    expected = uninterrupted.read_bytes()
    frames = [json.loads(line)["frame_index"] for line in expected.splitlines()]
    assert frames == list(range(0, 24, 2))

    hold.touch()
    output = tmp_path / "part.jsonl"
    interrupted, descendants = interrupt_after(
        [*args, "-o", str(output)],
        output,
        lines=4,
        sig=sig,
        env={**env, "VIDEOPIPE_EXECUTOR": executor},
        after_signal=lambda: hold.unlink(missing_ok=True),
    )
    if sig == signal.SIGINT:
        assert interrupted.returncode == 130
        assert interrupted.stderr.strip().splitlines() == ["videopipe: interrupted"]
    else:
        assert interrupted.returncode == -signal.SIGKILL
    if executor == "sequential":  # (executors that decode ahead may be done decoding)
        assert descendants, "the run had its decoder running"
    wait_for(lambda: not any(alive(pid) for pid in descendants), timeout=30, what="no ffmpeg")
    written = output.read_bytes()
    assert written.endswith(b"\n")
    assert written == b"".join(expected.splitlines(keepends=True)[:4])  # frames 0, 2, 4, 6

    resumed = videopipe(*args, "-o", str(output), "--resume", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == ""
    assert output.read_bytes() == expected


def _failure_config(tmp_path: Path, hang_seconds: float) -> dict[str, str]:
    """The failure runner (mock results) holding frame 30 for ``hang_seconds``."""
    config = tmp_path / f"hang{hang_seconds}.yaml"
    config.write_text(
        "runner: failure\n"
        "runners:\n"
        f"  failure: {{fail_at: [30], action: hang, hang_seconds: {hang_seconds}}}\n"
    )
    return {"VIDEOPIPE_CONFIG": str(config), "VIDEOPIPE_ENV": "test"}


def test_several_videos_resume_skips_the_complete_ones(tmp_path: Path, clip: Path) -> None:
    second = make_video(tmp_path / "second.mp4", frames=40, width=64, height=48)
    args = ["run", str(clip), str(second), "-p", "demo"]
    full = tmp_path / "full.jsonl"
    done = videopipe(*args, "-o", str(full), env=_failure_config(tmp_path, 0))
    assert done.returncode == 0, done.stderr
    expected = full.read_bytes()
    videos = [json.loads(line)["video"] for line in expected.splitlines()]
    assert videos == [str(clip)] * 24 + [str(second)] * 40

    output = tmp_path / "part.jsonl"
    interrupted, _ = interrupt_after(
        [*args, "-o", str(output)],
        output,
        lines=24 + 30,  # the first video whole, the second held on frame 30
        sig=signal.SIGINT,
        env=_failure_config(tmp_path, 60),
    )
    assert interrupted.returncode == 130, interrupted.stderr
    assert output.read_bytes() == b"".join(expected.splitlines(keepends=True)[:54])
    resumed = videopipe(
        *args, "-o", str(output), "--resume", "--stats", env=_failure_config(tmp_path, 0)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == expected
    assert "1 complete videos skipped" in resumed.stderr
    assert "10 lines written" in resumed.stderr


def test_a_torn_last_line_is_dropped_on_resume(tmp_path: Path, clip: Path) -> None:
    env = {"VIDEOPIPE_ENV": "test"}
    full = tmp_path / "full.jsonl"
    assert videopipe("run", str(clip), "-p", "demo", "-o", str(full), env=env).returncode == 0
    expected = full.read_bytes()
    lines = expected.splitlines(keepends=True)
    output = tmp_path / "torn.jsonl"
    output.write_bytes(b"".join(lines[:10]) + lines[10][:17])
    resumed = videopipe("run", str(clip), "-p", "demo", "-o", str(output), "--resume", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == expected


def test_resume_of_a_complete_file_changes_nothing(tmp_path: Path, clip: Path) -> None:
    env = {"VIDEOPIPE_ENV": "test"}
    output = tmp_path / "done.jsonl"
    assert videopipe("run", str(clip), "-p", "demo", "-o", str(output), env=env).returncode == 0
    before = output.read_bytes()
    again = videopipe("run", str(clip), "-p", "demo", "-o", str(output), "--resume", env=env)
    assert again.returncode == 0, again.stderr
    assert output.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json\n", "line 1 is not a videopipe result line"),
        (b'{"video": "other.mp4", "frame_index": 0}\n', "which is not among the videos given"),
    ],
)
def test_resume_refuses_a_file_it_did_not_write(
    tmp_path: Path, clip: Path, content: bytes, message: str
) -> None:
    output = tmp_path / "foreign.jsonl"
    output.write_bytes(content)
    done = videopipe(
        "run", str(clip), "-p", "demo", "-o", str(output), "--resume", env={"VIDEOPIPE_ENV": "test"}
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert output.read_bytes() == content


def test_resume_with_other_options_is_refused(tmp_path: Path, clip: Path) -> None:
    env = {"VIDEOPIPE_ENV": "test"}
    output = tmp_path / "stride.jsonl"
    first = videopipe(
        "run", str(clip), "-p", "demo", "--max-frames", "3", "-o", str(output), env=env
    )
    assert first.returncode == 0
    before = output.read_bytes()
    other = videopipe(
        "run", str(clip), "-p", "demo", "--stride", "2", "-o", str(output), "--resume", env=env
    )
    assert other.returncode == 2
    assert "not the frames this run selects" in other.stderr  # a stateless runner
    assert output.read_bytes() == before


def test_a_stateful_resume_with_other_options_is_refused(tmp_path: Path, clip: Path) -> None:
    output = tmp_path / "motion.jsonl"
    first = videopipe("run", str(clip), "-p", "motion", "--max-frames", "5", "-o", str(output))
    assert first.returncode == 0
    before = output.read_bytes()
    other = videopipe(
        "run", str(clip), "-p", "motion", "--stride", "2", "-o", str(output), "--resume"
    )
    assert other.returncode == 2
    assert len(other.stderr.splitlines()) == 1
    assert "differ from what this run gives for those frames" in other.stderr
    assert output.read_bytes() == before


def test_a_stateless_resume_continues_from_the_last_line_without_rerunning(
    tmp_path: Path, clip: Path
) -> None:
    """Frames before the last one written are not run again: a runner failing on them is
    not hit (the last one is, to check the file was written by this configuration).
    """
    env = {"VIDEOPIPE_ENV": "test"}
    full = tmp_path / "full.jsonl"
    args = ["run", str(clip), "-p", "demo", "--stride", "3"]
    assert videopipe(*args, "-o", str(full), env=env).returncode == 0
    expected = full.read_bytes()
    output = tmp_path / "part.jsonl"
    output.write_bytes(b"".join(expected.splitlines(keepends=True)[:4]))  # frames 0-9
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure: {fail_at: [0, 3, 6]}\n")
    resumed = videopipe(
        *args,
        "-o",
        str(output),
        "--resume",
        "--stats",
        env={**env, "VIDEOPIPE_CONFIG": str(config)},
    )
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == expected
    assert "5 frames of 1 video" in resumed.stderr  # frames 9 (checked), 12, 15, 18, 21
    assert "4 lines written" in resumed.stderr


def test_a_stateless_resume_refuses_a_file_of_another_configuration(
    tmp_path: Path, clip: Path
) -> None:
    output = tmp_path / "mock.jsonl"
    args = ["run", str(clip), "-p", "demo", "--max-frames", "4"]
    assert videopipe(*args, "-o", str(output), env={"VIDEOPIPE_ENV": "test"}).returncode == 0
    before = output.read_bytes()
    mutated = videopipe(
        *args[:-2], "-o", str(output), "--resume", env={"VIDEOPIPE_RUNNER": "mutation"}
    )
    assert mutated.returncode == 2
    assert "differ from what this run gives for those frames" in mutated.stderr
    assert output.read_bytes() == before


def test_error_lines_already_written_are_kept_when_the_frame_now_succeeds(
    tmp_path: Path, clip: Path
) -> None:
    """A skipped frame's error may not repeat (a timeout); resuming accepts and keeps it."""
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure: {fail_at: [2]}\n")
    args = ["run", str(clip), "-p", "demo", "--on-error", "skip"]
    full = tmp_path / "full.jsonl"
    env = {"VIDEOPIPE_ENV": "test"}
    done = videopipe(*args, "-o", str(full), env={**env, "VIDEOPIPE_CONFIG": str(config)})
    assert done.returncode == 0
    expected = full.read_bytes()
    assert "error" in json.loads(expected.splitlines()[2])
    output = tmp_path / "part.jsonl"
    output.write_bytes(b"".join(expected.splitlines(keepends=True)[:5]))
    # --annotate makes even a stateless run re-run from the start and check every line.
    resumed = videopipe(
        *args, "-o", str(output), "--resume", "--annotate", str(tmp_path / "a.mp4"), env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == expected


def test_resume_needs_output(clip: Path) -> None:
    done = videopipe("run", str(clip), "-p", "demo", "--resume", env={"VIDEOPIPE_ENV": "test"})
    assert done.returncode == 2
    assert done.stderr.strip() == "videopipe: error: --resume needs --output (the file to continue)"
