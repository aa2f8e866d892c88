"""The DAG engine: pipeline specs, the library, the runner, policies and plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import VideoFilePipelineService
from videopipe.container import create_container
from videopipe.domain.errors import (
    MissingDependencyError,
    PipelineNotFoundError,
    PipelineSpecError,
    PluginError,
)
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin


def payload(
    index: int, image: np.ndarray[Any, Any] | None = None, video: str = "v.mp4"
) -> dict[str, Any]:
    frame = np.zeros((8, 8, 3), np.uint8) if image is None else image
    return {
        "frame_index": index,
        "timestamp": index / 25,
        "image": frame,
        "image_bytes": memoryview(frame.tobytes()),
        "width": frame.shape[1],
        "height": frame.shape[0],
        "video_path": video,
    }


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def library(folder: Path, registry: PluginRegistry | None = None) -> PipelineLibrary:
    return PipelineLibrary([folder], registry=registry)


# -- finding pipelines ------------------------------------------------------------------


def test_shipped_pipelines_are_found_by_id() -> None:
    ids = PipelineLibrary().ids()
    assert {"motion", "scenes"} <= set(ids)


def test_an_unknown_id_lists_the_ids_that_exist(pipelines: Path) -> None:
    write(pipelines, "mine", "nodes: {s: {plugin: frame_stats}}")
    with pytest.raises(PipelineNotFoundError) as caught:
        library(pipelines).load("missing")
    assert isinstance(caught.value, FileNotFoundError)
    assert "Known pipelines: " in str(caught.value)
    assert "mine" in str(caught.value)
    assert "motion" in str(caught.value)


@pytest.mark.parametrize("bad_id", ["../motion", "a/b", "/etc/passwd", "..", "", ".hidden", "a\\b"])
def test_an_id_is_a_name_never_a_path(pipelines: Path, bad_id: str) -> None:
    with pytest.raises(PipelineSpecError, match="a pipeline id is a name"):
        library(pipelines).load(bad_id)


def test_user_directories_come_after_the_shipped_ones(pipelines: Path) -> None:
    write(pipelines, "motion", "nodes: {s: {plugin: frame_stats}}")
    loaded = library(pipelines).load("motion")
    assert "videopipe/pipelines" in loaded.source.replace(os.sep, "/")


def test_the_environment_variable_overrides_the_configured_paths(
    pipelines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(pipelines, "from_env", "nodes: {s: {plugin: frame_stats}}")
    monkeypatch.setenv(
        "VIDEOPIPE_PIPELINE_PATH", os.pathsep.join([str(tmp_path / "none"), str(pipelines)])
    )
    container = create_container(
        "test", overrides={"runner": "dag", "pipeline_paths": ["/nowhere"]}
    )
    assert "from_env" in container.pipeline_library().ids()


def test_loaded_pipelines_are_cached_until_the_file_changes(pipelines: Path) -> None:
    path = write(pipelines, "p", "nodes: {s: {plugin: frame_stats}}")
    lib = library(pipelines)
    first = lib.load("p")
    assert lib.load("p") is first
    path.write_text("nodes: {g: {plugin: grayscale}}")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert lib.load("p").order == ("g",)


# -- spec errors: raised at load, naming the file, the node and the problem ---------------

SPEC_ERRORS = {
    "cycle": (
        """
        nodes:
          a: {plugin: resize, params: {scale: 0.5}, inputs: {image: b.image}}
          b: {plugin: grayscale, inputs: {image: a.image}}
        """,
        None,
        "cycle",
    ),
    "unknown plugin": (
        "nodes: {a: {plugin: yolo9000}}",
        "a",
        "unknown plugin 'yolo9000'; known plugins:",
    ),
    "misspelled input node": (
        """
        nodes:
          gray: {plugin: grayscale}
          stats: {plugin: frame_stats, inputs: {image: grey.image}}
        """,
        "stats",
        "refers to unknown node 'grey'",
    ),
    "unknown output of a node": (
        """
        nodes:
          gray: {plugin: grayscale}
          stats: {plugin: frame_stats, inputs: {image: gray.picture}}
        """,
        "stats",
        "has no output 'picture'",
    ),
    "unknown input name": (
        "nodes: {s: {plugin: frame_stats, inputs: {img: frame.image}}}",
        "s",
        "unknown input 'img'",
    ),
    "bad frame key": (
        "nodes: {s: {plugin: frame_stats, inputs: {image: frame.pixels}}}",
        "s",
        "the frame has no 'pixels'",
    ),
    "wrong parameter name": (
        "nodes: {m: {plugin: motion, params: {treshold: 3}}}",
        "m",
        "unknown parameter 'treshold'",
    ),
    "wrong parameter type": (
        "nodes: {m: {plugin: motion, params: {threshold: high}}}",
        "m",
        "parameter 'threshold'",
    ),
    "unknown key": (
        "nodes: {m: {plugin: motion, param: {}}}",
        "m",
        "Extra inputs are not permitted",
    ),
    "no nodes": ("nodes: {}", None, "nodes"),
    "unknown output node": (
        "nodes: {m: {plugin: motion}}\noutputs: [n]",
        None,
        "outputs name unknown node 'n'",
    ),
    "not yaml": ("nodes: [unclosed", None, "not valid YAML"),
    "not a mapping": ("- just a list", None, "must hold a mapping"),
    "bad policy": ("on_error: ignore\nnodes: {m: {plugin: motion}}", None, "on_error"),
}


@pytest.mark.parametrize("case", list(SPEC_ERRORS))
def test_spec_errors_name_the_file_node_and_problem(pipelines: Path, case: str) -> None:
    text, node, problem = SPEC_ERRORS[case]
    path = write(pipelines, "broken", text)
    with pytest.raises(PipelineSpecError) as caught:
        library(pipelines).load("broken")
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert str(path) in message
    assert problem in message
    if node is not None:
        assert f"node {node!r}" in message
        assert caught.value.node == node


def test_an_unset_environment_parameter_says_how_to_configure_it(
    pipelines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIDEOPIPE_TEST_THRESHOLD", raising=False)
    write(
        pipelines,
        "env",
        "nodes: {m: {plugin: motion, params: {threshold: '${VIDEOPIPE_TEST_THRESHOLD}'}}}",
    )
    with pytest.raises(PipelineSpecError, match="export VIDEOPIPE_TEST_THRESHOLD="):
        library(pipelines).load("env")
    monkeypatch.setenv("VIDEOPIPE_TEST_THRESHOLD", "12.5")
    assert library(pipelines).load("env").nodes["m"].params["threshold"] == 12.5


class NeedsMissingModule(Plugin):
    name = "needs_missing"
    outputs: ClassVar[dict[str, str]] = {"x": "nothing"}
    requires: ClassVar[dict[str, str]] = {"videopipe_no_such_module": "imaginary"}

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        return {"x": 1}


def test_a_missing_extra_fails_at_load_with_the_pip_command(pipelines: Path) -> None:
    registry = PluginRegistry(entry_points=False)
    registry._loaded["needs_missing"] = NeedsMissingModule
    registry._targets["needs_missing"] = "tests:NeedsMissingModule"
    write(pipelines, "extra", "nodes: {n: {plugin: needs_missing}}")
    with pytest.raises(MissingDependencyError, match=r'pip install "videopipe\[imaginary\]"'):
        library(pipelines, registry).load("extra")


# -- running ------------------------------------------------------------------------------


class Counter(Plugin):
    """Counts its setups and calls; fails on the frames in ``fail_on`` (first attempt(s))."""

    name = "counter"
    inputs: ClassVar[dict[str, str]] = {"image": "frame", "frame_index": "index"}
    outputs: ClassVar[dict[str, str]] = {"n": "calls so far", "seen": "history length"}
    params: ClassVar[dict[str, Param]] = {
        "fail_on": Param(list[int], [], "frames that fail"),
        "failures": Param(int, 1, "failing attempts per failing frame"),
    }
    history = 2
    setups = 0

    def setup(self) -> None:
        type(self).setups += 1
        self.calls = 0
        self.attempts: dict[int, int] = {}

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        self.calls += 1
        index = inputs["frame_index"]
        self.attempts[index] = self.attempts.get(index, 0) + 1
        if index in self.config["fail_on"] and self.attempts[index] <= self.config["failures"]:
            raise KeyError(f"boom on {index}")
        return {"n": np.int64(self.calls), "seen": [entry.frame_index for entry in history]}


@pytest.fixture
def counter_registry() -> PluginRegistry:
    Counter.setups = 0
    registry = PluginRegistry(entry_points=False)
    registry._loaded["counter"] = Counter
    registry._targets["counter"] = "tests:Counter"
    return registry


def test_plugins_are_set_up_once_and_history_is_kept_per_video(
    pipelines: Path, counter_registry: PluginRegistry
) -> None:
    write(pipelines, "count", "nodes: {c: {plugin: counter}}")
    runner = DagPipelineRunner(library(pipelines, counter_registry))
    results = [runner.run_pipeline("count", payload(index)) for index in range(4)]
    assert Counter.setups == 1
    assert [result["c"]["seen"] for result in results] == [[], [0], [0, 1], [1, 2]]
    assert isinstance(results[0]["c"]["n"], int)  # numpy scalars come back as plain values
    restarted = runner.run_pipeline("count", payload(0, video="other.mp4"))
    assert restarted["c"]["seen"] == []
    assert Counter.setups == 1
    runner.close()


def test_a_failing_plugin_becomes_plugin_error_naming_everything(
    pipelines: Path, counter_registry: PluginRegistry
) -> None:
    write(pipelines, "count", "nodes: {c: {plugin: counter, params: {fail_on: [1]}}}")
    runner = DagPipelineRunner(library(pipelines, counter_registry))
    runner.run_pipeline("count", payload(0))
    with pytest.raises(PluginError) as caught:
        runner.run_pipeline("count", payload(1))
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert isinstance(error.__cause__, KeyError)
    assert (error.pipeline_id, error.node, error.plugin, error.frame_index) == (
        "count",
        "c",
        "counter",
        1,
    )
    assert "pipeline 'count'" in str(error)
    assert "frame 1" in str(error)


def test_skip_policy_records_the_error_in_the_result(
    pipelines: Path, counter_registry: PluginRegistry
) -> None:
    write(
        pipelines, "count", "on_error: skip\nnodes: {c: {plugin: counter, params: {fail_on: [1]}}}"
    )
    runner = DagPipelineRunner(library(pipelines, counter_registry))
    results = [runner.run_pipeline("count", payload(index)) for index in range(3)]
    assert results[1] == {
        "error": {
            "node": "c",
            "plugin": "counter",
            "type": "KeyError",
            "message": "'boom on 1'",
            "attempts": 1,
        }
    }
    assert results[2]["c"]["seen"] == [0]  # the skipped frame is not history


@pytest.mark.parametrize(
    ("retries", "failures", "succeeds"), [(2, 2, True), (2, 3, False), (0, 1, False)]
)
def test_retry_policy_retries_n_times(
    pipelines: Path, counter_registry: PluginRegistry, retries: int, failures: int, succeeds: bool
) -> None:
    write(
        pipelines,
        "count",
        f"""
        on_error: retry
        retries: {retries}
        nodes:
          c: {{plugin: counter, params: {{fail_on: [0], failures: {failures}}}}}
        """,
    )
    runner = DagPipelineRunner(library(pipelines, counter_registry))
    if succeeds:
        assert runner.run_pipeline("count", payload(0))["c"]["n"] == failures + 1
    else:
        with pytest.raises(PluginError) as caught:
            runner.run_pipeline("count", payload(0))
        assert caught.value.attempts == retries + 1  # type: ignore[attr-defined]


def test_a_dag_feeds_one_nodes_output_into_another(pipelines: Path) -> None:
    write(
        pipelines,
        "chain",
        """
        nodes:
          half: {plugin: resize, params: {scale: 0.5}}
          gray: {plugin: grayscale, inputs: {image: half.image}}
          stats: {plugin: frame_stats, inputs: {image: gray.image}}
        outputs: [stats]
        """,
    )
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :, 0] = 200  # pure red: luma 0.299 * 200 = 59.8
    result = DagPipelineRunner(library(pipelines)).run_pipeline("chain", payload(0, image))
    assert list(result) == ["stats"]
    assert result["stats"]["mean"] == [60.0, 60.0, 60.0]
    json.dumps(result)


# -- shipped pipelines on videos whose truth is known -------------------------------------


def moving_square_video(
    path: Path, frames: int = 12, still_from: int = 8
) -> tuple[Path, list[list[int]]]:
    """A white 20x20 square moving 6 px right per frame on black, then still."""
    images, boxes = [], []
    for index in range(frames):
        image = np.zeros((120, 160, 3), np.uint8)
        x = 10 + 6 * min(index, still_from)
        image[50:70, x : x + 20] = 255
        images.append(image)
        boxes.append([x, 50, x + 20, 70])
    return make_video_from(path, images), boxes


def make_video_from(path: Path, images: list[np.ndarray[Any, Any]]) -> Path:
    height, width = images[0].shape[:2]
    command = [bundled_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"]
    command += ["-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", "25", "-i", "pipe:0"]
    command += ["-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv444p", str(path)]
    subprocess.run(command, input=b"".join(image.tobytes() for image in images), check=True)
    return path


@pytest.mark.parametrize("decoder", ["imageio_ffmpeg", "opencv"])
def test_motion_is_reported_exactly_where_the_square_moved(tmp_path: Path, decoder: str) -> None:
    video, boxes = moving_square_video(tmp_path / "square.mp4")
    service = VideoFilePipelineService(
        DagPipelineRunner(), frame_source=create_frame_source(decoder)
    )
    results = service.run_on_file("motion", video)
    motion = [item["result"]["motion"] for item in results]
    assert motion[0] == {"score": 0.0, "moving": False, "box": None}
    for index in range(1, 9):
        assert motion[index]["moving"], index
        # the union of where the square was and where it is now
        expected = [boxes[index - 1][0], 50, boxes[index][2], 70]
        assert motion[index]["box"] == pytest.approx(expected, abs=2), index
    for index in range(9, 12):
        assert motion[index] == {"score": 0.0, "moving": False, "box": None}, index


def test_scene_cuts_are_found_where_the_content_changes(tmp_path: Path) -> None:
    images = [np.full((90, 120, 3), 30 if index < 5 else 220, np.uint8) for index in range(10)]
    for index, image in enumerate(images):
        if index < 5:
            image[:, : 10 + index] = 90  # slow change inside a scene
        else:  # another picture (not the same one lit up: that would be a flash)
            image[70 - index :, :] = 20
    video = make_video_from(tmp_path / "cut.mp4", images)
    service = VideoFilePipelineService(DagPipelineRunner(), frame_source=create_frame_source())
    cuts = [item["result"]["scene"]["cut"] for item in service.run_on_file("scenes", video)]
    assert cuts == [index == 5 for index in range(10)]


def test_stride_history_is_the_previous_processed_frame(tmp_path: Path) -> None:
    video, boxes = moving_square_video(tmp_path / "square.mp4")
    service = VideoFilePipelineService(
        DagPipelineRunner(), frame_stride=2, frame_source=create_frame_source()
    )
    motion = {
        item["frame_index"]: item["result"]["motion"]
        for item in service.run_on_file("motion", video)
    }
    assert motion[2]["box"] == pytest.approx([boxes[0][0], 50, boxes[2][2], 70], abs=2)


# -- third-party plugins through entry points ----------------------------------------------

THIRD_PARTY = """
from videopipe.ports.plugins import Param, Plugin


class Doubler(Plugin):
    name = "doubler"
    inputs = {"frame_index": "index"}
    outputs = {"double": "twice the frame index"}
    params = {"factor": Param(int, 2, "multiplier")}

    def process(self, inputs, context, history=()):
        return {"double": inputs["frame_index"] * self.config["factor"]}
"""


def test_a_third_party_plugin_from_an_entry_point_runs_and_a_broken_one_is_reported(
    tmp_path: Path, indexed_video: Path
) -> None:
    site = tmp_path / "site"
    (site / "thirdparty_plugin").mkdir(parents=True)
    (site / "thirdparty_plugin" / "__init__.py").write_text(THIRD_PARTY)
    info = site / "thirdparty_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[videopipe.plugins]\n"
        "doubler = thirdparty_plugin:Doubler\n"
        "broken = thirdparty_plugin:DoesNotExist\n"
    )
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    write(pipelines, "double", "nodes: {d: {plugin: doubler, params: {factor: 3}}}")
    script = textwrap.dedent(
        f"""
        import json
        from videopipe.adapters.plugins import PluginRegistry
        from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
        from videopipe.application import VideoFilePipelineService
        from videopipe.adapters.decoders import create_frame_source
        registry = PluginRegistry()
        runner = DagPipelineRunner(PipelineLibrary([{str(pipelines)!r}], registry=registry))
        service = VideoFilePipelineService(runner, 10, frame_source=create_frame_source())
        results = service.run_on_file("double", {str(indexed_video)!r})
        report = {{"results": results, "errors": registry.errors, "names": registry.names()}}
        print(json.dumps(report))
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [item["result"]["d"]["double"] for item in report["results"]] == [0, 30, 60]
    assert "doubler" in report["names"]
    assert "broken" not in report["names"]
    assert "DoesNotExist" in report["errors"]["broken"]


def test_a_changed_environment_parameter_reloads_the_pipeline(
    pipelines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDEOPIPE_TEST_LEVEL", "10")
    write(
        pipelines,
        "env2",
        "nodes: {m: {plugin: motion, params: {threshold: '${VIDEOPIPE_TEST_LEVEL}'}}}",
    )
    lib = library(pipelines)
    assert lib.load("env2").nodes["m"].params["threshold"] == 10
    assert lib.load("env2") is lib.load("env2")
    monkeypatch.setenv("VIDEOPIPE_TEST_LEVEL", "20")
    assert lib.load("env2").nodes["m"].params["threshold"] == 20


def test_images_among_outputs_are_summarised_not_serialised(pipelines: Path) -> None:
    write(pipelines, "gray", "nodes: {g: {plugin: grayscale}}")
    result = DagPipelineRunner(library(pipelines)).run_pipeline("gray", payload(0))
    assert result == {
        "g": {
            "image": {"array": {"shape": [8, 8, 3], "dtype": "uint8"}},
            "gray": {"array": {"shape": [8, 8], "dtype": "uint8"}},
        }
    }


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ("{}", "give either width and height, or scale"),
        ("{width: 10, height: 10, scale: 0.5}", "give either width and height, or scale"),
        ("{scale: 0}", "scale must be > 0"),
        ("{width: 0, height: 4}", "width and height must be >= 1"),
    ],
)
def test_parameter_combinations_are_checked_at_load(
    pipelines: Path, params: str, problem: str
) -> None:
    write(pipelines, "sized", f"nodes: {{r: {{plugin: resize, params: {params}}}}}")
    with pytest.raises(PipelineSpecError, match=problem) as caught:
        library(pipelines).load("sized")
    assert caught.value.node == "r"


def test_crop_cuts_the_box_and_refuses_an_empty_one(pipelines: Path) -> None:
    write(
        pipelines,
        "cut",
        """
        nodes:
          c: {plugin: crop, params: {x1: 2, y1: 1, x2: 6}}
          s: {plugin: frame_stats, inputs: {image: c.image}}
        """,
    )
    image = np.zeros((8, 8, 3), np.uint8)
    image[1:, 2:6] = 100
    result = DagPipelineRunner(library(pipelines)).run_pipeline("cut", payload(0, image))
    assert result["s"]["min"] == 100
    write(pipelines, "empty", "nodes: {c: {plugin: crop, params: {x1: 9}}}")
    with pytest.raises(PluginError, match="is empty"):
        DagPipelineRunner(library(pipelines)).run_pipeline("empty", payload(0, image))


def test_the_qr_backend_decides_which_extra_is_needed(pipelines: Path) -> None:
    write(
        pipelines,
        "qr_cv",
        "nodes: {q: {plugin: qr_decode, params: {backend: opencv, formats: [MicroQRCode]}}}",
    )
    with pytest.raises(PipelineSpecError, match="reads QRCode only"):
        library(pipelines).load("qr_cv")
    write(pipelines, "qr_ok", "nodes: {q: {plugin: qr_decode, params: {backend: opencv_aruco}}}")
    node = library(pipelines).load("qr_ok").nodes["q"]
    assert node.plugin.requirements(node.params) == {"cv2": "opencv"}


def test_the_pipeline_file_is_checked_when_a_video_starts_not_on_every_frame(
    pipelines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(pipelines, "p", "nodes: {s: {plugin: frame_stats}}")
    lib = library(pipelines)
    loads: list[str] = []
    real_load = lib.load
    monkeypatch.setattr(
        lib, "load", lambda pipeline_id: loads.append(pipeline_id) or real_load(pipeline_id)
    )
    runner = DagPipelineRunner(lib)
    for index in range(5):
        assert "s" in runner.run_pipeline("p", payload(index))
    assert len(loads) == 1
    path.write_text("nodes: {g: {plugin: grayscale}}")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert "s" in runner.run_pipeline("p", payload(5))  # the video in progress goes on
    assert "g" in runner.run_pipeline("p", payload(0, video="next.mp4"))  # the next one
    assert "g" in runner.run_pipeline("p", payload(0, video="next.mp4"))  # a retry checks too
    assert len(loads) == 3


class SlowSetup(Plugin):
    """Counts setups running at the same moment (a library import that takes a while)."""

    name = "slow_setup"
    inputs: ClassVar[Mapping[str, str]] = {"frame_index": "the index"}
    outputs: ClassVar[Mapping[str, str]] = {"ok": "true"}
    running = 0
    most = 0
    guard = threading.Lock()

    def setup(self) -> None:
        cls = type(self)
        with cls.guard:
            cls.running += 1
            cls.most = max(cls.most, cls.running)
        time.sleep(0.05)
        with cls.guard:
            cls.running -= 1

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        return {"ok": True}


def test_threads_set_up_their_plugins_one_at_a_time(pipelines: Path) -> None:
    """OpenCV's import is not thread-safe (cv2 without cv2.data): setups never overlap."""
    SlowSetup.running = SlowSetup.most = 0
    registry = PluginRegistry(entry_points=False)
    registry._loaded["slow_setup"] = SlowSetup
    registry._targets["slow_setup"] = "tests:SlowSetup"
    write(pipelines, "slow", "nodes: {a: {plugin: slow_setup}, b: {plugin: slow_setup}}")
    runner = DagPipelineRunner(library(pipelines, registry))
    start = threading.Barrier(4)

    def call(index: int) -> None:
        start.wait()
        runner.run_pipeline("slow", payload(index))

    threads = [threading.Thread(target=call, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runner.close()
    assert SlowSetup.most == 1
