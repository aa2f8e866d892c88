"""Scale-out executors (local segments, Dask) give exactly the results of a sequential run.

Every comparison is against a sequential run of the same service in the same test, on
videos whose frame ``i`` carries ``i`` in its pixels: frame indices, timestamps, the
pixels each frame holds (read back by the runner) and the order must all match.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import psutil
import pytest

from videopipe.adapters._malloc import tune_glibc_malloc
from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.adapters.executors._segmenting import Segment, plan_segments, run_segment
from videopipe.adapters.executors.batch import run_batch
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.adapters.executors.segments import SegmentExecutor
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.adapters.runners.failure import FailureInjectingRunner
from videopipe.adapters.runners.mock import MockDagPipelineService
from videopipe.api import VideoFilePipelineService
from videopipe.application import SequentialExecutor
from videopipe.container import create_container
from videopipe.domain import errors
from videopipe.domain.model import FrameResult, FrameSelection
from videopipe.testing.media import make_video, read_frame_index, write_truncated_copy

FRAMES = 48
GOP = 12
DECODERS = available_decoders()
KINDS = {
    "mp4": ("mp4", {}),
    "mkv": ("mkv", {}),
    "ts": ("ts", {}),
    "vfr": ("mp4", {"vfr": True}),
}


# -- runners (module level: they are pickled into the workers) ---------------------


class IndexRunner:
    """Reads the index drawn into each frame: proves the right pixels reached the runner."""

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "drawn": read_frame_index(payload["image"]),
            "frame_index": payload["frame_index"],
            "timestamp": payload["timestamp"],
        }


class KillOnceRunner(IndexRunner):
    """SIGKILLs its own process the first time it meets a frame of ``kill_at``."""

    def __init__(self, marker_dir: str, kill_at: frozenset[int]) -> None:
        self.marker_dir = marker_dir
        self.kill_at = kill_at

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        index = payload["frame_index"]
        marker = Path(self.marker_dir) / f"killed-{index}"
        if index in self.kill_at and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().run_pipeline(pipeline_id, payload)


class AlwaysExitRunner(IndexRunner):
    """Ends its process (``os._exit``) on frame ``exit_at``, every time."""

    def __init__(self, exit_at: int) -> None:
        self.exit_at = exit_at

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["frame_index"] == self.exit_at:
            os._exit(3)
        return super().run_pipeline(pipeline_id, payload)


class SlowRunner(IndexRunner):
    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.05)
        return super().run_pipeline(pipeline_id, payload)


class UnpicklableRunner(IndexRunner):
    def __init__(self) -> None:
        self.lock = threading.Lock()


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """48-frame 160x120 H.264 videos, GOP 12 (B-frames), frame i drawing i."""
    directory = tmp_path_factory.mktemp("scaleout")
    made = {}
    for kind, (extension, options) in KINDS.items():
        made[kind] = make_video(
            directory / f"{kind}.{extension}",
            frames=FRAMES,
            width=160,
            height=120,
            gop=GOP,
            **options,
        )
    return made


@pytest.fixture(scope="module")
def segments2() -> Iterator[SegmentExecutor]:
    """Two local workers, six segments of a 48-frame video; reused by the module."""
    with SegmentExecutor(2, segments_per_worker=3, min_segment_frames=4) as executor:
        yield executor


def service(runner: Any, decoder: str = "imageio_ffmpeg", **options: Any) -> Any:
    return VideoFilePipelineService(runner, frame_source=create_frame_source(decoder), **options)


def run(runner: Any, path: Path, executor: Any, pipeline: str = "demo", **options: Any) -> Any:
    """One run on a fresh copy of ``runner`` (doubles count attempts per frame)."""
    svc = service(pickle.loads(pickle.dumps(runner)), executor=executor, **options)
    return list(svc.iter_frame_results(pipeline, path))


def assert_same_as_sequential(
    runner: Any, path: Path, executor: Any, pipeline: str = "demo", **options: Any
) -> list[FrameResult]:
    expected = run(runner, path, SequentialExecutor(), pipeline, **options)
    got = run(runner, path, executor, pipeline, **options)
    assert got == expected
    return got


_SERVERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


def descendants() -> list[psutil.Process]:
    """Processes started by this one (workers are the fork server's), but its servers."""
    me = psutil.Process()
    found = []
    for child in me.children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if child.ppid() != me.pid or not any(name in command for name in _SERVERS):
                found.append(child)
        except psutil.Error:
            continue
    return found


def ffmpeg_reading(path: Path) -> list[psutil.Process]:
    """Any process on the machine whose command line names ``path`` (a leaked decoder)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if any(str(path) in part for part in cmdline):
            found.append(process)
    return found


# -- the plan ------------------------------------------------------------------------


def selected(segments: list[Segment], frames: int) -> list[int]:
    return [
        i
        for s in segments
        for i in range(frames)
        if FrameSelection(s.start, s.stop, s.step).contains(i)
    ]


@pytest.mark.parametrize("declared", [None, 10, 48, 100])
@pytest.mark.parametrize(("step", "stop"), [(1, None), (3, None), (7, None), (3, 28)])
def test_plan_covers_the_selection_exactly_whatever_the_declared_count(declared, step, stop):
    selection = FrameSelection(0, stop, step)
    segments = plan_segments("v", selection, frame_count=declared, parts=6, history=2, min_frames=2)
    assert selected(segments, 200) == [i for i in range(200) if selection.contains(i)]
    assert segments[-1].stop == stop  # the last segment ends where the selection does
    for segment in segments:
        assert segment.start % step == 0
        assert segment.warm_from == max(0, segment.start - 2 * step)


def test_plan_gives_one_segment_to_unbounded_history():
    segments = plan_segments(
        "v", FrameSelection(), frame_count=1000, parts=8, history=sys.maxsize, min_frames=4
    )
    assert [(s.start, s.stop) for s in segments] == [(0, None)]


# -- equivalence ---------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 3, 7])
@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_segments_match_sequential(videos, segments2, kind, decoder, stride):
    got = assert_same_as_sequential(
        IndexRunner(), videos[kind], segments2, decoder=decoder, frame_stride=stride
    )
    assert [r.frame_index for r in got] == list(range(0, FRAMES, stride))
    assert all(r.result["drawn"] == r.frame_index for r in got)


@pytest.mark.parametrize("workers", [1, 3])
def test_any_worker_count_matches_sequential(videos, workers):
    with SegmentExecutor(workers, segments_per_worker=2, min_segment_frames=4) as executor:
        assert_same_as_sequential(IndexRunner(), videos["mp4"], executor)
        assert_same_as_sequential(IndexRunner(), videos["ts"], executor, max_frames=11)


@pytest.mark.parametrize("max_frames", [0, 1, 7, 16])
def test_max_frames_matches_sequential(videos, segments2, max_frames):
    assert_same_as_sequential(
        IndexRunner(), videos["mkv"], segments2, frame_stride=3, max_frames=max_frames
    )


def frame_types(path: Path) -> dict[str, list[int]]:
    with av.open(str(path)) as container:
        names = {1: "I", 2: "P", 3: "B"}  # AVPictureType
        types = [(i, names.get(int(f.pict_type))) for i, f in enumerate(container.decode(video=0))]
    return {kind: [i for i, t in types if t == kind] for kind in ("I", "P", "B")}


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_segment_may_start_on_a_b_frame_a_keyframe_or_the_last_frame(videos, kind, decoder):
    path = videos[kind]
    types = frame_types(path)
    starts = {types["B"][len(types["B"]) // 2], GOP, 2 * GOP, FRAMES - 1, FRAMES}
    assert types["B"]
    assert GOP in types["I"]
    assert 2 * GOP in types["I"]
    svc = service(IndexRunner(), decoder)
    whole = list(svc.iter_frame_results("demo", path))
    recipe = svc.work("demo", path).portable()
    for start in sorted(starts):
        for stop in (None, start + 5):
            got: list[FrameResult] = []
            run_segment(recipe, Segment(str(path), 0, start, stop, 1, start - 2), got.extend)
            expected = [
                r
                for r in whole
                if r.frame_index >= start and (stop is None or r.frame_index < stop)
            ]
            assert got == expected, (start, stop)


def test_segments_on_keyframes_match_sequential(videos):
    with SegmentExecutor(2, segments_per_worker=2, min_segment_frames=4) as executor:
        plan = executor.plan(service(IndexRunner()).work("demo", videos["mp4"]))
        assert [s.start for s in plan] == [0, GOP, 2 * GOP, 3 * GOP]
        assert_same_as_sequential(IndexRunner(), videos["mp4"], executor)


# scenes (history 42: segments of 84+ frames) is split inside a dissolve and a fade in
# tests/scenes/test_executors.py; these videos are too short to split it
@pytest.mark.parametrize("pipeline", ["motion"])
@pytest.mark.parametrize(("kind", "stride"), [("mp4", 1), ("ts", 3), ("vfr", 1)])
def test_stateful_pipelines_match_sequential(videos, segments2, pipeline, kind, stride):
    runner = DagPipelineRunner()
    work = service(runner, frame_stride=stride).work(pipeline, videos[kind])
    plan = segments2.plan(work)
    assert len(plan) > 1
    assert all(s.warm_from < s.start for s in plan[1:])  # history: warmed up before each cut
    assert_same_as_sequential(runner, videos[kind], segments2, pipeline, frame_stride=stride)


# -- errors --------------------------------------------------------------------------


def test_raise_yields_every_result_before_the_failure_then_the_same_exception(videos, segments2):
    runner = FailureInjectingRunner(fail_at=[29], exception="KeyError")
    with pytest.raises(KeyError) as sequential:
        service(runner).run_on_file("demo", videos["mp4"])
    with pytest.raises(KeyError) as parallel:
        service(runner, executor=segments2).run_on_file("demo", videos["mp4"])
    assert parallel.value.partial_results == sequential.value.partial_results
    assert [r["frame_index"] for r in parallel.value.partial_results] == list(range(29))
    notes = "\n".join(parallel.value.__notes__)
    assert "on frame 29" in notes
    assert "running frames [" in notes


def test_a_failing_segment_names_its_frame_range(videos, segments2):
    runner = FailureInjectingRunner(fail_at=[29])
    plan = segments2.plan(service(runner).work("demo", videos["mp4"]))
    segment = next(s for s in plan if s.start <= 29 and (s.stop is None or s.stop > 29))
    with pytest.raises(RuntimeError) as caught:
        list(service(runner, executor=segments2).iter_results("demo", videos["mp4"]))
    assert segment.describe() in "\n".join(caught.value.__notes__)


@pytest.mark.parametrize(
    "options",
    [
        {"runner": {"every": 5}, "service": {"on_error": "skip"}},
        {"runner": {"every": 4, "fail_times": 1}, "service": {"retries": 1}},
        {
            "runner": {"probability": 0.3, "fail_times": 2},
            "service": {"retries": 1, "on_error": "skip"},
        },
    ],
)
def test_error_policies_match_sequential(videos, segments2, options):
    runner = FailureInjectingRunner(**options["runner"])
    got = assert_same_as_sequential(runner, videos["ts"], segments2, **options["service"])
    assert len(got) == FRAMES


def test_a_decoder_error_comes_after_the_frames_before_it(videos, segments2, tmp_path):
    truncated = write_truncated_copy(videos["mp4"], tmp_path / "cut.mp4", 0.6)
    with pytest.raises(errors.VideoReadError) as sequential:
        service(IndexRunner()).run_on_file("demo", truncated)
    with pytest.raises(errors.VideoReadError) as parallel:
        service(IndexRunner(), executor=segments2).run_on_file("demo", truncated)
    assert type(parallel.value) is type(sequential.value)
    assert parallel.value.partial_results == sequential.value.partial_results


def test_an_unpicklable_runner_is_a_configuration_error(videos, segments2):
    with pytest.raises(errors.ConfigurationError, match="cannot be sent"):
        list(service(UnpicklableRunner(), executor=segments2).iter_results("demo", videos["mp4"]))


class LockReturningRunner(IndexRunner):
    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"lock": threading.Lock()}


def test_results_that_cannot_leave_a_worker_are_a_configuration_error(videos, segments2):
    with pytest.raises(errors.ConfigurationError, match="results must be picklable") as caught:
        list(service(LockReturningRunner(), executor=segments2).iter_results("demo", videos["mp4"]))
    assert "running frames [0, " in "\n".join(caught.value.__notes__)


class BadHistoryRunner(IndexRunner):
    def history_frames(self, pipeline_id: str) -> Any:
        return "two"


def test_a_history_that_is_not_a_count_is_a_configuration_error(videos, segments2):
    with pytest.raises(errors.ConfigurationError, match="history_frames"):
        list(service(BadHistoryRunner(), executor=segments2).iter_results("demo", videos["mp4"]))


def test_an_unknown_pipeline_fails_frame_by_frame_as_in_sequence(videos, segments2):
    assert_same_as_sequential(DagPipelineRunner(), videos["ts"], segments2, "nope", on_error="skip")


def test_a_missing_file_is_the_sequential_error(segments2, tmp_path):
    with pytest.raises(errors.VideoFileNotFoundError):
        list(service(IndexRunner(), executor=segments2).iter_results("demo", tmp_path / "no.mp4"))


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_workers_can_keep_freed_buffers():
    assert tune_glibc_malloc()


# -- dead workers, early close -------------------------------------------------------


def test_a_killed_worker_has_its_segment_retried(videos, segments2, tmp_path):
    runner = KillOnceRunner(str(tmp_path), frozenset({10, 40}))
    got = run(runner, videos["mp4"], segments2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed-10", "killed-40"]
    assert got == run(IndexRunner(), videos["mp4"], SequentialExecutor())


def test_a_worker_dying_on_every_attempt_is_a_typed_error_naming_the_range(videos):
    with SegmentExecutor(2, min_segment_frames=4, max_retries=1) as executor:
        plan = executor.plan(service(IndexRunner()).work("demo", videos["mp4"]))
        segment = next(s for s in plan if s.start <= 20 and (s.stop is None or s.stop > 20))
        svc = service(AlwaysExitRunner(20), executor=executor)
        with pytest.raises(errors.WorkerLostError) as caught:
            svc.run_on_file("demo", videos["mp4"])
    error = caught.value
    assert (error.start, error.stop, error.attempts) == (segment.start, segment.stop, 2)
    assert [r["frame_index"] for r in error.partial_results] == list(range(segment.start))
    assert "exit code 3" in str(error)


def test_closing_early_stops_the_workers_and_their_decoders(videos):
    before = {p.pid for p in descendants()}
    executor = SegmentExecutor(2, min_segment_frames=4)
    results = service(SlowRunner(), executor=executor).iter_results("demo", videos["mkv"])
    assert next(results)["frame_index"] == 0
    busy = [p for p in descendants() if p.pid not in before]
    assert len(busy) >= 2  # the two workers (and their ffmpeg processes)
    results.close()
    executor.close()
    psutil.wait_procs(busy, timeout=10)
    assert [p for p in descendants() if p.pid not in before] == []
    assert ffmpeg_reading(videos["mkv"]) == []


# -- many files ----------------------------------------------------------------------


@pytest.mark.parametrize("use_segments", [True, False])
def test_a_batch_yields_each_file_in_order(videos, segments2, use_segments):
    paths = [videos["mp4"], videos["ts"], videos["vfr"]]
    executor = segments2 if use_segments else SequentialExecutor()
    svc = service(IndexRunner(), executor=executor, frame_stride=2)
    got = list(run_batch(svc, "demo", paths))
    expected = [
        (str(path), result)
        for path in paths
        for result in service(IndexRunner(), frame_stride=2).iter_frame_results("demo", path)
    ]
    assert got == expected


def test_a_batch_stops_at_a_missing_file_after_the_files_before_it(videos, segments2, tmp_path):
    paths = [videos["mp4"], tmp_path / "missing.mp4", videos["ts"]]
    got = []
    with pytest.raises(errors.VideoFileNotFoundError):
        for item in run_batch(service(IndexRunner(), executor=segments2), "demo", paths):
            got.append(item)
    assert [path for path, _ in got] == [str(videos["mp4"])] * FRAMES


# -- errors survive pickling ---------------------------------------------------------

ERROR_SAMPLES = [
    errors.VideoFileNotFoundError("a.mp4"),
    errors.VideoReadError("a.mp4", "no video stream"),
    errors.NotARegularFileError("dir", "a directory"),
    errors.VideoDecodeError("a.mp4", "cut short", frames_read=3, frames_expected=9),
    errors.VideoDecodeError("a.mp4", "cut short", frames_read=3),
    errors.TimestampOrderError("a.mp4", 454, 15.151, 15.184, frames_expected=456),
    errors.UnsupportedByDecoderError("a.mp4", "no frame timestamps", use="pyav"),
    errors.FrameTooLargeError("a.mp4", 9000, 9000, 100),
    errors.DecoderTimeoutError("a.mp4", 2.5, 7),
    errors.RunnerTimeoutError("motion", 4, 1.5),
    errors.ConfigurationError("bad value"),
    errors.MissingDependencyError("The dask executor", "dask"),
    errors.PipelineNotFoundError("nope", ["motion"], ["/x"]),
    errors.PipelineSpecError("p.yaml", "no nodes", node="a"),
    errors.PipelineSpecError("p.yaml", "no nodes"),
    errors.PluginError("motion", "node", "plugin", 4, ValueError("inner")),
    errors.WorkerLostError("a.mp4", 10, None, 3, "killed by SIGKILL"),
    errors.ResultsWriteError("cannot write --output 'out.csv': No space left on device"),
    errors.ResultsFileError("'out.parquet' is not videopipe.results version 1"),
    errors.TooManyErrorsError("a.mp4", 3, 2, 0, "the plugin refused frame 0"),
    errors.ClusterError("tcp://127.0.0.1:8786", "gone"),
    errors.ClusterUnavailableError("tcp://127.0.0.1:8786", "a worker to connect", 10.0, "hint"),
    errors.WorkerPreflightError("tcp://h:1", {"tcp://w:2": [("no file", "mount it")]}),
]


def test_every_error_class_has_a_pickling_sample():
    classes = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.VideoPipeError)
    }
    assert classes - {errors.VideoPipeError} <= {type(error) for error in ERROR_SAMPLES}


@pytest.mark.parametrize("error", ERROR_SAMPLES, ids=lambda e: type(e).__name__)
def test_errors_survive_pickling_with_type_message_attributes_and_notes(error):
    error.add_note("videopipe: a note")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
    assert copy.__notes__ == error.__notes__
    if isinstance(error, OSError):
        assert (copy.errno, copy.filename) == (error.errno, error.filename)


# -- dask ----------------------------------------------------------------------------

try:
    import distributed
except ImportError:  # pragma: no cover - dask is in the dev extra
    distributed = None

needs_dask = pytest.mark.skipif(distributed is None, reason='pip install "videopipe[dask]"')


@pytest.fixture(scope="module")
def dask2() -> Iterator[Any]:
    """A LocalCluster of two single-threaded worker processes, reused by the module."""
    with DaskExecutor(2, segments_per_worker=3, min_segment_frames=4) as executor:
        yield executor


def test_dask_without_its_extra_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(errors.MissingDependencyError, match=r'pip install "videopipe\[dask\]"'):
        DaskExecutor(2)


@needs_dask
@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("kind", list(KINDS))
def test_dask_matches_sequential(videos, dask2, kind, stride):
    got = assert_same_as_sequential(IndexRunner(), videos[kind], dask2, frame_stride=stride)
    assert all(r.result["drawn"] == r.frame_index for r in got)
    assert len(got) == len(range(0, FRAMES, stride))


@needs_dask
def test_dask_stateful_pipeline_and_max_frames_match_sequential(videos, dask2):
    assert_same_as_sequential(DagPipelineRunner(), videos["ts"], dask2, "motion")
    assert_same_as_sequential(IndexRunner(), videos["vfr"], dask2, frame_stride=3, max_frames=9)


@needs_dask
def test_dask_error_policies_match_sequential(videos, dask2):
    runner = FailureInjectingRunner(every=5)
    assert_same_as_sequential(runner, videos["mp4"], dask2, on_error="skip")
    plan = dask2.plan(service(runner).work("demo", videos["mp4"]))
    segment = next(s for s in plan if s.start <= 29 and (s.stop is None or s.stop > 29))
    failing = FailureInjectingRunner(fail_at=[29], exception="KeyError")
    with pytest.raises(KeyError) as sequential:
        service(failing).run_on_file("demo", videos["mp4"])
    with pytest.raises(KeyError) as parallel:
        service(failing, executor=dask2).run_on_file("demo", videos["mp4"])
    assert parallel.value.partial_results == sequential.value.partial_results
    assert segment.describe() in "\n".join(parallel.value.__notes__)


@needs_dask
def test_dask_retries_a_segment_whose_worker_was_killed(videos, dask2, tmp_path):
    runner = KillOnceRunner(str(tmp_path), frozenset({30}))
    got = run(runner, videos["mkv"], dask2)
    assert [p.name for p in tmp_path.iterdir()] == ["killed-30"]
    assert got == run(IndexRunner(), videos["mkv"], SequentialExecutor())


@needs_dask
def test_dask_worker_dying_on_every_attempt_is_a_typed_error_naming_the_range(videos, dask2):
    plan = dask2.plan(service(IndexRunner()).work("demo", videos["mp4"]))
    segment = next(s for s in plan if s.start <= 20 and (s.stop is None or s.stop > 20))
    with pytest.raises(errors.WorkerLostError) as caught:
        service(AlwaysExitRunner(20), executor=dask2).run_on_file("demo", videos["mp4"])
    error = caught.value
    assert (error.start, error.stop) == (segment.start, segment.stop)
    assert [r["frame_index"] for r in error.partial_results] == list(range(segment.start))
    # the cluster recovers: the next video runs on the restarted workers
    assert_same_as_sequential(IndexRunner(), videos["mp4"], dask2)


@needs_dask
def test_dask_batch_and_an_existing_scheduler(videos):
    paths = [videos["ts"], videos["mp4"]]
    expected = [
        (str(path), result)
        for path in paths
        for result in service(IndexRunner()).iter_frame_results("demo", path)
    ]
    before = {p.pid for p in descendants()}
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
        ) as cluster,
        DaskExecutor(2, scheduler_address=cluster.scheduler_address) as executor,
    ):
        svc = service(IndexRunner(), executor=executor)
        assert list(run_batch(svc, "demo", paths)) == expected
        results = svc.iter_results("demo", videos["mkv"])
        next(results)
        results.close()
    psutil.wait_procs([p for p in descendants() if p.pid not in before], timeout=10)
    assert [p for p in descendants() if p.pid not in before] == []


CTRL_C_SCRIPT = """
import sys
from tests.executors.test_scaleout import SlowRunner, service
from videopipe.adapters.executors.segments import SegmentExecutor

if __name__ == "__main__":
    executor = SegmentExecutor(2, min_segment_frames=4)
    for item in service(SlowRunner(), executor=executor).iter_results("demo", sys.argv[1]):
        print(item["frame_index"], flush=True)
"""


def start_script(tmp_path: Path, video: Path) -> psutil.Popen:
    """Run :data:`CTRL_C_SCRIPT` on ``video`` in a new Python process."""
    script = tmp_path / "scaleout_script.py"
    script.write_text(CTRL_C_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")])}
    return psutil.Popen(
        [sys.executable, str(script), str(video)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def test_workers_of_a_killed_parent_end_too(videos, tmp_path):
    process = start_script(tmp_path, videos["mp4"])
    try:
        assert process.stdout.readline().strip() == b"0"
        started = process.children(recursive=True)
        assert len(started) >= 3
    finally:
        process.kill()
        process.communicate()
    _, alive = psutil.wait_procs(started, timeout=20)
    assert alive == []
    assert ffmpeg_reading(videos["mp4"]) == []


def test_ctrl_c_stops_the_workers_and_their_decoders(videos, tmp_path):
    process = start_script(tmp_path, videos["ts"])
    try:
        assert process.stdout.readline().strip() == b"0"
        started = process.children(recursive=True)
        assert len(started) >= 3  # fork server, resource tracker, workers, their ffmpeg
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert b"KeyboardInterrupt" in stderr
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []
    assert ffmpeg_reading(videos["ts"]) == []


@pytest.mark.parametrize("name", ["segments", pytest.param("dask", marks=needs_dask)])
def test_configuration_chooses_a_scale_out_executor(videos, name):
    container = create_container(
        "test", overrides={"executor": name, "workers": 2, "runner": "mock"}
    )
    service_ = container.video_service()
    try:
        assert service_.executor.name == name
        assert service_.executor is container.video_service().executor  # one pool
        expected = service(MockDagPipelineService()).run_on_file("demo", videos["mkv"])
        assert service_.run_on_file("demo", videos["mkv"]) == expected
    finally:
        service_.executor.close()
