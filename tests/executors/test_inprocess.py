"""The one-machine executors (prefetch, threads, auto) give exactly the sequential results.

Every case runs the same service once with the sequential executor (the reference) and
once per executor under test, and compares the FrameResults (indices, timestamps,
results, errors) and the exception, on MP4, Matroska, MPEG-TS and VFR files, on every
installed decoder. Then: back-pressure, early close, errors on either side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.executors.conftest import DECODERS, FRAMES, MEDIA
from videopipe import VideoFilePipelineService
from videopipe.adapters._closing import Closing
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors import EXECUTORS, create_executor
from videopipe.adapters.executors.auto import AutoExecutor
from videopipe.adapters.executors.prefetch import PrefetchExecutor
from videopipe.adapters.executors.threads import ThreadsExecutor
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import SequentialExecutor
from videopipe.domain.errors import ConfigurationError, VideoDecodeError
from videopipe.domain.model import Frame, FrameResult, FrameSelection, FrameSize, VideoInfo
from videopipe.ports.executor import Executor
from videopipe.ports.frames import FrameSource, VideoReader
from videopipe.ports.plugins import FrameContext, HistoryEntry, Plugin
from videopipe.testing import (
    FailureInjectingRunner,
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
)
from videopipe.testing.media import write_truncated_video

# -- test plugins and pipelines ------------------------------------------------------------


class Delta(Plugin):
    """This frame's value minus the previous processed frame's (history 1, not recurrent)."""

    name = "delta"
    inputs: ClassVar[dict[str, str]] = {"value": "a number"}
    outputs: ClassVar[dict[str, str]] = {"delta": "value - previous value (0 first)"}
    history = 1
    recurrent = False

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        previous = history[-1].inputs["value"] if history else inputs["value"]
        return {"delta": round(inputs["value"] - previous, 6)}


class Smooth(Plugin):
    """An exponential average of its input: reads its own previous output (recurrent)."""

    name = "smooth"
    inputs: ClassVar[dict[str, str]] = {"value": "a number"}
    outputs: ClassVar[dict[str, str]] = {"mean": "running average"}
    history = 1

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        previous = history[-1].outputs["mean"] if history else inputs["value"]
        return {"mean": round(0.5 * previous + 0.5 * inputs["value"], 9)}


class Flaky(Plugin):
    """Passes the image on; fails on frames whose index is 3 modulo 7."""

    name = "flaky"
    inputs: ClassVar[dict[str, str]] = {"image": "frame", "frame_index": "index"}
    outputs: ClassVar[dict[str, str]] = {"image": "the same image"}

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        if inputs["frame_index"] % 7 == 3:
            raise ValueError(f"flaky on {inputs['frame_index']}")
        return {"image": inputs["image"]}


PIPELINES = {
    # motion (history 1) feeds delta (history 1): a result depends on 2 earlier frames
    "chain2": "nodes:\n  motion: {plugin: motion}\n  delta: {plugin: delta, inputs: "
    "{value: motion.score}}\noutputs: [motion, delta]\n",
    "recurrent": "nodes:\n  motion: {plugin: motion}\n  smooth: {plugin: smooth, inputs: "
    "{value: motion.score}}\noutputs: [motion, smooth]\n",
    # a failing node before motion leaves gaps in motion's history
    "gaps": "on_error: skip\nnodes:\n  flaky: {plugin: flaky}\n  motion: {plugin: motion, "
    "inputs: {image: flaky.image}}\noutputs: [motion]\n",
}


@pytest.fixture(scope="module")
def test_library(tmp_path_factory: pytest.TempPathFactory) -> PipelineLibrary:
    """The shipped pipelines plus :data:`PIPELINES`, with the test plugins registered."""
    folder = tmp_path_factory.mktemp("pipelines")
    for name, text in PIPELINES.items():
        (folder / f"{name}.yaml").write_text(text)
    registry = PluginRegistry(entry_points=False)
    for plugin in (Delta, Smooth, Flaky):
        registry._loaded[plugin.name] = plugin
        registry._targets[plugin.name] = f"tests.executors.test_inprocess:{plugin.__name__}"
    return PipelineLibrary([folder], registry=registry)


# -- cases ---------------------------------------------------------------------------------

Case = tuple[Callable[[PipelineLibrary], Any], str, dict[str, Any]]
"""``(runner factory, pipeline id, service options)``."""

CASES: dict[str, Case] = {
    "mock": (lambda _: MockDagPipelineService(), "demo", {}),
    "motion": (DagPipelineRunner, "motion", {}),
    "scenes": (DagPipelineRunner, "scenes", {}),
    "chain2": (DagPipelineRunner, "chain2", {}),
    "recurrent": (DagPipelineRunner, "recurrent", {}),
    "gaps": (DagPipelineRunner, "gaps", {}),
    "motion-stride3-max10": (DagPipelineRunner, "motion", {"frame_stride": 3, "max_frames": 10}),
    "motion-timeout": (DagPipelineRunner, "motion", {"runner_timeout": 60.0}),
    "failure-skip": (lambda _: FailureInjectingRunner(every=5), "demo", {"on_error": "skip"}),
    "failure-retried": (
        lambda _: FailureInjectingRunner(every=4, fail_times=1),
        "demo",
        {"retries": 1},
    ),
    "failure-skip-after-retries": (
        lambda _: FailureInjectingRunner(probability=0.3, seed=7, fail_times=2),
        "demo",
        {"retries": 1, "on_error": "skip"},
    ),
    "failure-raise": (lambda _: FailureInjectingRunner(fail_at=[23]), "demo", {}),
    "timeouts-skipped": (
        lambda _: FailureInjectingRunner(fail_at=[5, 17], action="hang", hang_seconds=1.2),
        "demo",
        {"runner_timeout": 0.4, "on_error": "skip"},
    ),
    "dag-plugin-raise": (DagPipelineRunner, "gaps-raise", {}),
}
CORE_CASES = ("mock", "chain2", "gaps", "failure-skip", "failure-raise")
"""The cases also run on the other containers (all of them run on MP4)."""

EXECUTOR_FACTORIES: dict[str, Callable[[], Executor]] = {
    "prefetch": PrefetchExecutor,
    "prefetch-depth1": lambda: PrefetchExecutor(depth=1),
    "threads-1": lambda: ThreadsExecutor(1),
    "threads-2": lambda: ThreadsExecutor(2),
    "threads-4": lambda: ThreadsExecutor(4, chunk_frames=1),
    "auto": lambda: AutoExecutor(2),
}


def make_service(
    case: str, library: PipelineLibrary, decoder: str, executor: Executor
) -> tuple[VideoFilePipelineService, str]:
    factory, pipeline_id, options = CASES[case]
    if pipeline_id == "gaps-raise":
        pipeline_id = "gaps"
        library = _raising_gaps_library(library)
    service = VideoFilePipelineService(
        factory(library),
        frame_source=create_frame_source(decoder),
        executor=executor,
        **options,
    )
    return service, pipeline_id


def _raising_gaps_library(library: PipelineLibrary) -> PipelineLibrary:
    folder = library.directories[-1].parent / "raising"
    folder.mkdir(exist_ok=True)
    (folder / "gaps.yaml").write_text(PIPELINES["gaps"].replace("on_error: skip\n", ""))
    return PipelineLibrary([folder], registry=library.registry)


Outcome = tuple[list[FrameResult], tuple[type[BaseException], str] | None]


def outcome(service: VideoFilePipelineService, pipeline_id: str, path: Path) -> Outcome:
    """Every result, then the exception's type and message (``None``: the run ended)."""
    results: list[FrameResult] = []
    try:
        for item in service.iter_frame_results(pipeline_id, path):
            results.append(item)
    except Exception as exc:
        return results, (type(exc), str(exc))
    finally:
        close = getattr(service.runner, "close", None)
        if close is not None:
            close()
    return results, None


def assert_all_executors_match(
    case: str, library: PipelineLibrary, decoder: str, path: Path
) -> Outcome:
    service, pipeline_id = make_service(case, library, decoder, SequentialExecutor())
    expected = outcome(service, pipeline_id, path)
    for name, factory in EXECUTOR_FACTORIES.items():
        service, pipeline_id = make_service(case, library, decoder, factory())
        got = outcome(service, pipeline_id, path)
        assert got[1] == expected[1], f"{name}: error {got[1]} != {expected[1]}"
        assert got[0] == expected[0], f"{name}: results differ from the sequential run"
    return expected


EQUIVALENCE = [
    (kind, case) for kind in MEDIA for case in CASES if kind == "mp4" or case in CORE_CASES
]


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(("kind", "case"), EQUIVALENCE)
def test_every_executor_gives_the_sequential_results(
    executor_video: Callable[[str], Path],
    test_library: PipelineLibrary,
    decoder: str,
    kind: str,
    case: str,
) -> None:
    results, error = assert_all_executors_match(case, test_library, decoder, executor_video(kind))
    # the cases are what they claim to be: a run covering the video, or failing where told
    stride, cap = CASES[case][2].get("frame_stride", 1), CASES[case][2].get("max_frames")
    expected_indices = list(range(0, FRAMES, stride))[:cap]
    if case == "failure-raise":
        assert error is not None
        assert error[0] is RuntimeError
        assert [item.frame_index for item in results] == list(range(23))
    elif case == "dag-plugin-raise":
        assert error is not None
        assert [item.frame_index for item in results] == [0, 1, 2]
    else:
        assert error is None
        assert [item.frame_index for item in results] == expected_indices
    if case in ("failure-skip", "failure-skip-after-retries"):
        assert any(item.error for item in results)
    if case == "timeouts-skipped":
        timed_out = [item.frame_index for item in results if item.error]
        assert timed_out == [5, 17]
        assert results[5].error["type"] == "RunnerTimeoutError"  # type: ignore[index]
    if case == "gaps":
        assert "error" in results[3].result  # type: ignore[operator]
        assert results[4].result == {"motion": {"score": 0.0, "moving": False, "box": None}}
    if case in ("motion", "chain2"):
        assert sum(item.result["motion"]["moving"] for item in results) > FRAMES // 2  # type: ignore[index]


@pytest.mark.parametrize("decoder", DECODERS)
def test_run_on_file_partial_results_are_identical(
    executor_video: Callable[[str], Path], decoder: str
) -> None:
    path = executor_video("mp4")
    partials = {}
    for name, factory in {"sequential": SequentialExecutor, **EXECUTOR_FACTORIES}.items():
        service = VideoFilePipelineService(
            FailureInjectingRunner(fail_at=[30], exception="KeyError"),
            frame_source=create_frame_source(decoder),
            executor=factory(),
        )
        with pytest.raises(KeyError) as caught:
            service.run_on_file("demo", path)
        partials[name] = caught.value.partial_results  # type: ignore[attr-defined]
        assert any("frame 30" in note for note in caught.value.__notes__), name
    assert all(partial == partials["sequential"] for partial in partials.values())
    assert [item["frame_index"] for item in partials["sequential"]] == list(range(30))


# -- properties ----------------------------------------------------------------------------


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stride=st.integers(1, 4),
    cap=st.none() | st.integers(0, 15),
    failing=st.sets(st.integers(0, FRAMES - 1), max_size=6),
    policy=st.sampled_from(["raise", "skip"]),
    workers=st.integers(2, 4),
    chunk=st.integers(1, 6),
    depth=st.integers(1, 3),
)
def test_threads_equal_sequential_for_any_selection_and_failures(
    executor_video: Callable[[str], Path],
    stride: int,
    cap: int | None,
    failing: set[int],
    policy: str,
    workers: int,
    chunk: int,
    depth: int,
) -> None:
    path = executor_video("mp4")

    def run(executor: Executor) -> Outcome:
        service = VideoFilePipelineService(
            FailureInjectingRunner(fail_at=failing),
            stride,
            cap,
            frame_source=create_frame_source(),
            on_error=policy,  # type: ignore[arg-type]
            executor=executor,
        )
        return outcome(service, "demo", path)

    expected = run(SequentialExecutor())
    assert run(ThreadsExecutor(workers, chunk_frames=chunk, depth=depth)) == expected
    assert run(PrefetchExecutor(depth)) == expected


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pipeline_id=st.sampled_from(["chain2", "gaps", "motion"]),
    stride=st.integers(1, 3),
    start_cap=st.none() | st.integers(1, 20),
    workers=st.integers(2, 4),
    chunk=st.integers(1, 9),
)
def test_threads_keep_stateful_pipelines_exact_for_any_split(
    executor_video: Callable[[str], Path],
    test_library: PipelineLibrary,
    pipeline_id: str,
    stride: int,
    start_cap: int | None,
    workers: int,
    chunk: int,
) -> None:
    path = executor_video("mkv")

    def run(executor: Executor) -> Outcome:
        service = VideoFilePipelineService(
            DagPipelineRunner(test_library), stride, start_cap, executor=executor
        )
        return outcome(service, pipeline_id, path)

    assert run(ThreadsExecutor(workers, chunk_frames=chunk)) == run(SequentialExecutor())


# -- back-pressure -------------------------------------------------------------------------


class CountingSource:
    """Wraps a frame source; ``decoded`` counts the frames its readers have handed out."""

    name = "counting"

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.decoded = 0

    def open(self, path: str, *, size: FrameSize | None = None) -> VideoReader:
        return _CountingReader(self, self.inner.open(path, size=size))


class _CountingReader(Closing):
    def __init__(self, source: CountingSource, inner: VideoReader) -> None:
        self.source = source
        self.inner = inner

    @property
    def info(self) -> VideoInfo:
        return self.inner.info

    def frames(self, selection: FrameSelection | None = None) -> Iterator[Frame]:
        for frame in self.inner.frames(selection):
            self.source.decoded += 1
            yield frame

    def close(self) -> None:
        self.inner.close()


class AheadRecorder(MockDagPipelineServiceWithLatency):
    """A slow runner noting, on every call, how many frames had been decoded by then."""

    def __init__(self, source: CountingSource, latency: float) -> None:
        super().__init__(latency_seconds=latency)
        self.source = source
        self.ahead: list[int] = []
        self.lock = threading.Lock()

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.ahead.append(self.source.decoded - len(self.ahead))
        return super().run_pipeline(pipeline_id, payload)


@pytest.mark.parametrize(
    ("executor", "bound"),
    [
        # the buffer (depth 2) + the frame the decode thread holds + the one being run
        (PrefetchExecutor(depth=2), 2 + 1 + 1),
        # 2 workers: 4 one-frame chunks in flight + the buffer + the decoder's hand
        (ThreadsExecutor(2, depth=2), 4 + 2 + 1),
    ],
    ids=["prefetch", "threads"],
)
def test_a_slow_runner_holds_the_decoder_back(
    executor_video: Callable[[str], Path], executor: Executor, bound: int
) -> None:
    source = CountingSource(create_frame_source())
    runner = AheadRecorder(source, latency=0.01)
    service = VideoFilePipelineService(runner, frame_source=source, executor=executor)
    assert len(service.run_on_file("demo", executor_video("mp4"))) == FRAMES
    assert source.decoded == FRAMES
    # decoded-but-not-yet-run frames never exceed the bound, though decoding is much faster
    assert max(runner.ahead) <= bound, runner.ahead
    assert max(runner.ahead) >= 2  # it did decode ahead


def test_a_stateful_threads_run_holds_a_bounded_number_of_frames(
    executor_video: Callable[[str], Path], test_library: PipelineLibrary
) -> None:
    source = CountingSource(create_frame_source())
    decoded_ahead: list[int] = []
    runner = DagPipelineRunner(test_library)
    processed = [0]
    lock = threading.Lock()

    class Watching:
        thread_safe = True

        def history_frames(self, pipeline_id: str) -> int:
            return runner.history_frames(pipeline_id)

        def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
            with lock:
                processed[0] += 1
                decoded_ahead.append(source.decoded - processed[0])
            time.sleep(0.002)
            return runner.run_pipeline(pipeline_id, payload)

    executor = ThreadsExecutor(2, chunk_frames=4, depth=2)
    service = VideoFilePipelineService(Watching(), frame_source=source, executor=executor)
    assert len(service.run_on_file("chain2", executor_video("mp4"))) == FRAMES
    workers, chunk, warm = executor.plan(service.work("chain2", "x"))
    assert (workers, chunk, warm) == (2, 8, 2)
    # runner calls include warm-ups, so "ahead" undercounts nothing: (workers + 1) chunks
    # of chunk + warm frames, the buffer and the decoder's hand bound it
    assert max(decoded_ahead) <= (workers + 1) * (chunk + warm) + 2 + 1


# -- closing early and errors --------------------------------------------------------------


@pytest.mark.parametrize("name", ["prefetch", "threads"])
@pytest.mark.parametrize("how", ["close", "consumer-exception", "abandon-after-error"])
@pytest.mark.parametrize("decoder", DECODERS)
def test_closing_early_leaves_nothing_behind(
    executor_video: Callable[[str], Path],
    no_leaks: Callable[[], None],
    name: str,
    how: str,
    decoder: str,
) -> None:
    executor = create_executor(name, **({"workers": 2} if name == "threads" else {}))
    service = VideoFilePipelineService(
        MockDagPipelineServiceWithLatency(latency_seconds=0.001),
        frame_source=create_frame_source(decoder),
        executor=executor,
    )
    results = service.iter_results("demo", executor_video("mp4"))
    if how == "close":
        assert [next(results)["frame_index"] for _ in range(3)] == [0, 1, 2]
        results.close()
    elif how == "consumer-exception":
        with pytest.raises(LookupError):
            for item in results:
                if item["frame_index"] == 5:
                    raise LookupError("the consumer gives up")
        results.close()
    else:
        next(results)
        del results  # dropped without close: the generator is finalised
    no_leaks()


@pytest.mark.parametrize("name", ["prefetch", "threads"])
def test_a_keyboard_interrupt_in_the_runner_stops_everything(
    executor_video: Callable[[str], Path], no_leaks: Callable[[], None], name: str
) -> None:
    class Interrupted(MockDagPipelineService):
        def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
            if payload["frame_index"] == 9:
                raise KeyboardInterrupt
            return super().run_pipeline(pipeline_id, payload)

    executor = create_executor(name, **({"workers": 2} if name == "threads" else {}))
    service = VideoFilePipelineService(
        Interrupted(), frame_source=create_frame_source(), executor=executor
    )
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for item in service.iter_results("demo", executor_video("mp4")):
            seen.append(item["frame_index"])
    assert seen == list(range(9))
    no_leaks()


@pytest.mark.parametrize("name", ["prefetch", "threads"])
def test_a_runner_error_stops_the_decoder_and_closes_the_file(
    executor_video: Callable[[str], Path], no_leaks: Callable[[], None], name: str
) -> None:
    executor = create_executor(name, **({"workers": 3} if name == "threads" else {}))
    service = VideoFilePipelineService(
        FailureInjectingRunner(fail_at=[4]), frame_source=create_frame_source(), executor=executor
    )
    with pytest.raises(RuntimeError, match="frame 4") as caught:
        service.run_on_file("demo", executor_video("mp4"))
    assert [item["frame_index"] for item in caught.value.partial_results] == [0, 1, 2, 3]  # type: ignore[attr-defined]
    no_leaks()


@pytest.fixture(scope="module")
def truncated_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_truncated_video(
        tmp_path_factory.mktemp("truncated") / "cut.mp4", frames=60, fraction=0.6
    )


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("name", ["prefetch", "threads", "auto"])
def test_a_decoder_error_comes_after_every_result_before_it(
    truncated_video: Path, no_leaks: Callable[[], None], decoder: str, name: str
) -> None:
    def run(executor: Executor) -> tuple[list[dict[str, Any]], BaseException]:
        service = VideoFilePipelineService(
            DagPipelineRunner(), frame_source=create_frame_source(decoder), executor=executor
        )
        with pytest.raises(VideoDecodeError) as caught:
            service.run_on_file("motion", truncated_video)
        return caught.value.partial_results, caught.value  # type: ignore[attr-defined]

    expected, expected_error = run(SequentialExecutor())
    got, error = run(create_executor(name, **({"workers": 2} if name != "prefetch" else {})))
    assert 0 < len(expected) < 60
    assert got == expected
    # ffmpeg's own log lines in the message vary from run to run; the facts do not
    assert type(error) is type(expected_error)
    assert error.frames_read == expected_error.frames_read == len(expected)  # type: ignore[attr-defined]
    no_leaks()


def test_a_missing_file_is_raised_before_any_thread_starts(
    tmp_path: Path, no_leaks: Callable[[], None]
) -> None:
    for name in ("prefetch", "threads", "auto"):
        service = VideoFilePipelineService(MockDagPipelineService(), executor=name)
        with pytest.raises(FileNotFoundError):
            service.run_on_file("demo", tmp_path / "nope.mp4")
    no_leaks()


# -- thread safety, history and auto -------------------------------------------------------


class Plain:
    """A runner that declares nothing: not thread-safe, stateless by default."""

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"i": payload["frame_index"]}


def test_threads_refuse_a_runner_that_is_not_thread_safe(
    executor_video: Callable[[str], Path],
) -> None:
    service = VideoFilePipelineService(Plain(), executor=ThreadsExecutor(2))
    with pytest.raises(ConfigurationError, match="thread_safe"):
        service.run_on_file("demo", executor_video("mp4"))
    one = VideoFilePipelineService(Plain(), executor=ThreadsExecutor(1))
    assert len(one.run_on_file("demo", executor_video("mp4"))) == FRAMES


def test_auto_picks_threads_only_when_that_is_safe(test_library: PipelineLibrary) -> None:
    auto = AutoExecutor(2)
    service = VideoFilePipelineService(DagPipelineRunner(test_library), executor=auto)
    assert auto.choose(service.work("motion", "x.mp4")) is auto.threads
    assert auto.choose(service.work("recurrent", "x.mp4")) is auto.prefetch
    plain = VideoFilePipelineService(Plain(), executor=auto)
    assert auto.choose(plain.work("demo", "x.mp4")) is auto.prefetch
    assert AutoExecutor(1).choose(service.work("motion", "x.mp4")).name == "prefetch"


def test_a_recurrent_pipeline_runs_on_one_thread_and_says_so(
    executor_video: Callable[[str], Path],
    test_library: PipelineLibrary,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = VideoFilePipelineService(DagPipelineRunner(test_library), executor=ThreadsExecutor(3))
    assert service.work("recurrent", "x").history_frames() >= 2**62
    with caplog.at_level(logging.WARNING):
        service.run_on_file("recurrent", executor_video("mp4"))
    assert "one thread" in caplog.text


def test_the_registry_names_every_executor_and_refuses_unknown_ones() -> None:
    assert {"auto", "sequential", "prefetch", "threads"} <= set(EXECUTORS)
    assert create_executor("threads", workers=3).workers == 3  # type: ignore[attr-defined]
    assert create_executor("sequential").name == "sequential"
    with pytest.raises(ConfigurationError, match="valid executors"):
        create_executor("turbo")
    with pytest.raises(ConfigurationError, match="unexpected keyword"):
        create_executor("prefetch", workers=2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            ThreadsExecutor(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="depth"):
        PrefetchExecutor(0)


@pytest.mark.parametrize("policy", ["raise", "skip"])
def test_an_unknown_pipeline_fails_as_in_a_sequential_run(
    executor_video: Callable[[str], Path], policy: str
) -> None:
    def run(executor: Executor) -> Outcome:
        service = VideoFilePipelineService(
            DagPipelineRunner(),
            max_frames=5,
            on_error=policy,  # type: ignore[arg-type]
            executor=executor,
        )
        return outcome(service, "no_such_pipeline", executor_video("mp4"))

    expected = run(SequentialExecutor())
    assert len(expected[0]) == (5 if policy == "skip" else 0)
    for name, factory in EXECUTOR_FACTORIES.items():
        assert run(factory()) == expected, name


@pytest.mark.parametrize(("stride", "cap"), [(1, 0), (1, 1), (100, None), (40, None)])
def test_tiny_selections_give_the_sequential_results(
    executor_video: Callable[[str], Path],
    test_library: PipelineLibrary,
    no_leaks: Callable[[], None],
    stride: int,
    cap: int | None,
) -> None:
    def run(executor: Executor) -> Outcome:
        service = VideoFilePipelineService(
            DagPipelineRunner(test_library), stride, cap, executor=executor
        )
        return outcome(service, "chain2", executor_video("vfr"))

    expected = run(SequentialExecutor())
    assert [item.frame_index for item in expected[0]] == list(range(0, FRAMES, stride))[:cap]
    for name, factory in EXECUTOR_FACTORIES.items():
        assert run(factory()) == expected, name
    no_leaks()


@pytest.mark.parametrize("declared", [-1, "2", True, None])
def test_a_runner_declaring_a_bad_history_is_a_configuration_error(
    executor_video: Callable[[str], Path], declared: object
) -> None:
    class Misdeclared(MockDagPipelineService):
        def history_frames(self, pipeline_id: str) -> int:
            return declared  # type: ignore[return-value]

    for name in ("threads", "auto"):
        service = VideoFilePipelineService(Misdeclared(), executor=create_executor(name, workers=2))
        with pytest.raises(ConfigurationError, match="history_frames"):
            service.run_on_file("demo", executor_video("mp4"))


def test_the_doubles_record_every_call_under_threads(
    executor_video: Callable[[str], Path],
) -> None:
    runner = FailureInjectingRunner(every=6, fail_times=1)
    service = VideoFilePipelineService(
        runner, retries=1, executor=ThreadsExecutor(4), image_bytes="copy"
    )
    assert len(service.run_on_file("demo", executor_video("mp4"))) == FRAMES
    indices = sorted(call["payload"]["frame_index"] for call in runner.calls)
    retried = [index for index in range(FRAMES) if (index + 1) % 6 == 0]
    assert indices == sorted([*range(FRAMES), *retried])  # one call per attempt, none lost
    assert all(runner.attempts[index] == 2 for index in retried)


def test_shipped_opencv_pipelines_run_exactly_on_threads(tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample.mp4"
    for pipeline_id in ("faces", "people", "aruco"):
        results = {
            name: VideoFilePipelineService(
                DagPipelineRunner(), max_frames=12, executor=factory()
            ).run_on_file(pipeline_id, sample)
            for name, factory in {
                "sequential": SequentialExecutor,
                "threads": lambda: ThreadsExecutor(3),
            }.items()
        }
        assert results["threads"] == results["sequential"], pipeline_id
        assert len(results["sequential"]) == 12
