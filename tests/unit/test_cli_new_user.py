"""A new user's findings: pipelines by file, the failure line, totals, quiet libraries."""

from __future__ import annotations

import io
import logging
import os
import pickle
import warnings
from pathlib import Path

import pytest

from videopipe.adapters.quiet import QUIET_VARIABLE, libraries_quieted, quiet_if_asked
from videopipe.adapters.runners.dag.library import PipelineLibrary
from videopipe.cli.app import error_line
from videopipe.cli.progress import selected_frames as _selected
from videopipe.domain.errors import PipelineNotFoundError, PipelineSpecError
from videopipe.domain.model import FrameSelection, VideoInfo

MINE = "nodes:\n  mine:\n    plugin: motion\n"


@pytest.fixture
def library() -> PipelineLibrary:
    return PipelineLibrary()


def test_a_yaml_file_is_a_pipeline_named_after_it_found_before_the_shipped_one(
    tmp_path: Path, library: PipelineLibrary
) -> None:
    path = tmp_path / "motion.yaml"  # the shipped pipeline's id: the file wins
    path.write_text(MINE)
    assert library.resolve(str(path)) == "motion"
    assert list(library.load("motion").nodes) == ["mine"]
    copy = pickle.loads(pickle.dumps(library))  # what executors send to their workers
    assert list(copy.load("motion").nodes) == ["mine"]


def test_a_path_without_the_yaml_suffix_is_a_file_when_it_exists(
    tmp_path: Path, library: PipelineLibrary
) -> None:
    path = tmp_path / "plain.pipeline"
    path.write_text(MINE)
    assert library.resolve(str(path)) == "plain"
    assert library.find("plain") == path.resolve()


def test_an_id_stays_an_id(library: PipelineLibrary) -> None:
    assert library.resolve("motion") == "motion"
    assert library.files == {}


@pytest.mark.parametrize(
    ("reference", "error", "message"),
    [
        ("missing.yaml", PipelineNotFoundError, "Pipeline file not found: 'missing.yaml' (no such"),
        ("{tmp}/dir.yaml", PipelineNotFoundError, "(it is a directory)"),
        ("{tmp}/bad name.yaml", PipelineSpecError, "the file's name gives the pipeline id"),
        ("./nowhere/p", PipelineSpecError, "no such pipeline file, and a pipeline id is a name"),
        ("no way", PipelineSpecError, "a pipeline id is a name"),
    ],
)
def test_what_is_neither_a_file_nor_an_id_says_which_it_was_taken_for(
    tmp_path: Path, library: PipelineLibrary, reference: str, error: type, message: str
) -> None:
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "bad name.yaml").write_text(MINE)
    with pytest.raises(error, match=None) as raised:
        library.resolve(reference.format(tmp=tmp_path))
    assert message in str(raised.value)


def test_added_directories_come_after_the_shipped_pipelines(tmp_path: Path) -> None:
    configured = PipelineLibrary([tmp_path / "configured"])
    configured.add_directories([str(tmp_path / "cli"), str(tmp_path / "cli")])
    assert configured.directories[1:] == [tmp_path / "cli", tmp_path / "configured"]
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "extra.yml").write_text(MINE)
    (tmp_path / "cli" / "motion.yaml").write_text(MINE)
    assert "extra" in configured.ids()
    assert list(configured.load("motion").nodes) == ["motion"]  # the shipped one first


def test_a_runner_failure_line_names_pipeline_frame_time_and_file() -> None:
    error = RuntimeError("boom")
    error.add_note(
        "videopipe: raised by FailureInjectingRunner.run_pipeline for pipeline 'demo' on "
        "frame 3 (t=0.120000s) of '/v/a.mkv'"
    )
    error.add_note("videopipe: raised in worker process 12 running ...; the worker's traceback:\nx")
    assert error_line(error) == (
        "videopipe: error: RuntimeError: boom (raised by FailureInjectingRunner.run_pipeline "
        "for pipeline 'demo' on frame 3 (t=0.120000s) of '/v/a.mkv')"
    )
    assert error_line(ValueError("plain")) == "videopipe: error: ValueError: plain"


@pytest.mark.parametrize(
    ("info", "selection", "total"),
    [
        (VideoInfo("a.mkv", 8, 6, "h264", fps=25.0, duration=1.2), FrameSelection.every(1), 30),
        (VideoInfo("a.ts", 8, 6, "h264", fps=25.0, duration=1.2), FrameSelection.every(2), 15),
        (VideoInfo("a.ts", 8, 6, "h264", fps=25.0, duration=1.2), FrameSelection.every(1, 7), 7),
        (VideoInfo("a.mp4", 8, 6, "h264", fps=25.0, frame_count=40), FrameSelection.every(1), 40),
        (VideoInfo("a.ts", 8, 6, "h264"), FrameSelection.every(1), None),
        (VideoInfo("a.ts", 8, 6, "h264"), FrameSelection.every(1, 5), 5),
    ],
)
def test_the_progress_total_is_the_declared_count_else_duration_times_rate(
    info: VideoInfo, selection: FrameSelection, total: int | None
) -> None:
    assert _selected(info, selection) == total


def _library_logger() -> tuple[logging.Logger, io.StringIO]:
    """A logger set up like RapidOCR's: its own handler, no propagation, level INFO."""
    logger = logging.getLogger("RapidOCR")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, stream


def test_quieted_libraries_keep_errors_only_even_when_they_reset_their_level() -> None:
    logger, stream = _library_logger()
    before = os.environ.get(QUIET_VARIABLE)
    with libraries_quieted():
        assert os.environ[QUIET_VARIABLE] == "1"
        logger.setLevel(logging.INFO)  # as RapidOCR does for each engine
        logger.warning("The text detection result is empty")
        logging.getLogger("distributed.worker").warning("a worker's chatter")
        logger.error("a real problem")
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("from a library", UserWarning, stacklevel=1)
        assert caught == []
    assert os.environ.get(QUIET_VARIABLE) == before
    assert stream.getvalue() == "a real problem\n"
    logger.setLevel(logging.INFO)
    logger.warning("heard again")  # outside the block the filter is gone
    assert stream.getvalue().endswith("heard again\n")


def test_debug_keeps_them_heard_and_workers_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger, stream = _library_logger()
    monkeypatch.setenv(QUIET_VARIABLE, "1")  # inherited from a quiet parent ...
    with libraries_quieted(quiet=False):  # ... but this run has --debug
        assert QUIET_VARIABLE not in os.environ
        quiet_if_asked()
        logger.setLevel(logging.INFO)
        logger.warning("heard")
    assert stream.getvalue() == "heard\n"
    with libraries_quieted(quiet=False):
        os.environ[QUIET_VARIABLE] = "1"  # a worker started by a quiet process
        quiet_if_asked()
        logger.setLevel(logging.INFO)
        logger.warning("not heard")
    assert stream.getvalue() == "heard\n"
