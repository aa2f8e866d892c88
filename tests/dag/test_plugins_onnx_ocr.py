"""onnx_detect, crop_boxes, annotate and ocr, and the text and yolo_ocr pipelines.

Truth comes from what the tests make: tiny ONNX models built here with the ``onnx``
package (a constant YOLO output, and a model that boxes the dark pixels of each
horizontal band of its input), and words rendered with Pillow's own scalable font
into the frames of an H.264 video. Recognised words must equal the rendered ones
exactly after folding case and whitespace (no edit-distance tolerance), and their
boxes must enclose the drawn ink (give or take 3 px) with at most a margin of half the
ink's height + 4 px (RapidOCR's text boxes are deliberately grown around the glyphs).
"""

from __future__ import annotations

import importlib
import socket
import textwrap
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dag.onnx_ocr_media import Word, normalise, render_words, write_h264
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.plugins import boxes as boxes_module
from videopipe.adapters.plugins import onnx_detector as onnx_detector_module
from videopipe.adapters.plugins.boxes import Annotate, CropBoxes
from videopipe.adapters.plugins.ocr import Ocr, reading_order
from videopipe.adapters.plugins.onnx_detector import OnnxDetect
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.dag import spec as spec_module
from videopipe.adapters.runners.dag.spec import params_model
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import MissingDependencyError, PipelineSpecError, PluginError
from videopipe.ports.plugins import FrameContext, Plugin

HAS_ONNX = find_spec("onnxruntime") is not None and find_spec("onnx") is not None
HAS_OCR = find_spec("rapidocr") is not None and find_spec("onnxruntime") is not None
needs_onnx = pytest.mark.skipif(
    not HAS_ONNX, reason="onnxruntime (extra 'onnx') or onnx (to build test models) is missing"
)
needs_ocr = pytest.mark.skipif(not HAS_OCR, reason="rapidocr (extra 'ocr') is not installed")
if HAS_ONNX:
    from tests.dag.onnx_ocr_models import (
        constant_detector,
        ink_band_detector,
        yolov5_rows,
        yolov8_rows,
    )

CONTEXT = FrameContext("test", "node", 0, 0.0)
WORD_LABELS = {"names": "{0: 'word', 1: 'other'}"}  # class names as Ultralytics stores them

# Three frames of words (in reading order). Each word's ink lies in one of the ink-band
# model's bands, which in a 320 x 240 frame letterboxed into 640 x 640 are the frame rows
# [0, 40), [40, 120), [120, 200) and [200, 240). HELLO and video share a line, video a
# little higher: reading order must still put HELLO first.
FRAMES = [
    [("HELLO", (16, 4)), ("video", (190, 0)), ("Pipe42", (24, 60)), ("brown", (150, 130))],
    [("QUICK", (180, 4)), ("Zebra", (20, 70)), ("jumps", (100, 150)), ("MARKET", (120, 200))],
    [("Night", (30, 0)), ("Fox", (200, 70)), ("Crane", (40, 140))],
]
BANDS = ((0, 40), (40, 120), (120, 200), (200, 240))


def make(plugin_class: type[Plugin], **params: Any) -> Plugin:
    """A plugin with validated parameters (defaults filled in), as the engine makes it."""
    return plugin_class(**params_model(plugin_class).model_validate(params).model_dump())


def frame_payload(image: np.ndarray, index: int = 0) -> dict[str, Any]:
    """The payload the service gives a runner for one frame."""
    height, width = image.shape[:2]
    return {
        "image": image,
        "frame_index": index,
        "timestamp": index / 5,
        "width": width,
        "height": height,
    }


def write_pipeline(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def assert_box_around(box: list[int], ink: tuple[int, int, int, int], slack: int = 3) -> None:
    """``box`` encloses the ink (give or take ``slack``) with a margin under half its height + 4."""
    margin = (ink[3] - ink[1]) / 2 + 4
    outside = [ink[0] - box[0], ink[1] - box[1], box[2] - ink[2], box[3] - ink[3]]
    assert all(-slack <= side <= margin for side in outside), (box, ink)


@pytest.fixture(scope="module")
def word_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[Word]]]:
    """A 3-frame H.264 video of :data:`FRAMES` and each frame's words with their ink."""
    rendered = [render_words(words) for words in FRAMES]
    path = write_h264(tmp_path_factory.mktemp("words") / "words.mp4", [f for f, _ in rendered])
    return path, [words for _, words in rendered]


# --- onnx_detect ---------------------------------------------------------------------


def to_input(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A 320 x 240 frame box in the 640 x 640 letterboxed input: x * 2, y * 2 + 80."""
    x1, y1, x2, y2 = box
    return 2 * x1, 2 * y1 + 80, 2 * x2, 2 * y2 + 80


@needs_onnx
@pytest.mark.parametrize("agnostic", [False, True])
def test_yolov8_output_is_thresholded_deduplicated_and_mapped_back_through_the_letterbox(
    tmp_path: Path, agnostic: bool
) -> None:
    candidates = [  # frame box, (cat, dog) scores
        ((40, 30, 120, 90), (0.9, 0.05)),  # A
        ((44, 34, 124, 94), (0.8, 0.05)),  # overlaps A (IoU 0.8): suppressed
        ((200, 100, 300, 200), (0.0, 0.7)),  # C
        ((150, 150, 200, 200), (0.1, 0.0)),  # under the score threshold
        ((40, 30, 120, 90), (0.0, 0.6)),  # on A, but a dog: kept unless agnostic
        ((-20, -30, 50, 40), (0.5, 0.0)),  # partly outside: clipped to the frame
    ]
    raw = yolov8_rows([to_input(box) for box, _ in candidates], [list(s) for _, s in candidates])
    # Best of all, but inside the letterbox's top border: outside the frame, dropped.
    raw = np.concatenate([raw, yolov8_rows([(10, 10, 60, 60)], [[0.95, 0.0]])], axis=2)
    model = constant_detector(tmp_path / "constant.onnx", raw)
    plugin = make(OnnxDetect, model=str(model), labels=["cat", "dog"], agnostic_nms=agnostic)
    plugin.setup()

    detections = plugin.process({"image": np.zeros((240, 320, 3), np.uint8)}, CONTEXT)

    expected = [
        {"box": [40, 30, 120, 90], "score": pytest.approx(0.9), "label": "cat"},
        {"box": [200, 100, 300, 200], "score": pytest.approx(0.7), "label": "dog"},
        {"box": [40, 30, 120, 90], "score": pytest.approx(0.6), "label": "dog"},
        {"box": [0, 0, 50, 40], "score": pytest.approx(0.5), "label": "cat"},
    ]
    if agnostic:
        del expected[2]
    assert detections == {"detections": expected}
    assert all(isinstance(value, int) for item in expected for value in item["box"])


@needs_onnx
def test_yolov5_scores_are_objectness_times_class_score(tmp_path: Path) -> None:
    raw = yolov5_rows(
        [to_input((10, 10, 60, 50)), to_input((100, 100, 150, 160)), to_input((200, 20, 300, 90))],
        [0.9, 0.2, 0.6],
        [[0.5, 0.9], [1.0, 0.0], [0.9, 0.1]],
    )
    model = constant_detector(tmp_path / "v5.onnx", raw)
    plugin = make(OnnxDetect, model=str(model), format="yolov5", labels=["cat", "dog"])
    plugin.setup()

    detections = plugin.process({"image": np.zeros((240, 320, 3), np.uint8)}, CONTEXT)

    assert detections["detections"] == [
        {"box": [10, 10, 60, 50], "score": pytest.approx(0.81), "label": "dog"},
        {"box": [200, 20, 300, 90], "score": pytest.approx(0.54), "label": "cat"},
    ]


@needs_onnx
@pytest.mark.parametrize(
    ("input_shape", "params", "frame_box"),
    [
        # static 320 x 320 input: scale 2 (640 x 480 frame -> 320 x 240), 40 px borders
        ((1, 3, 320, 320), {}, [100, 100, 300, 200]),
        # dynamic input: 640 x 640 by default (scale 1, 80 px borders)
        ((1, 3, "height", "width"), {}, [50, 10, 150, 60]),
        # dynamic input, size given: 320 x 320
        ((1, 3, "height", "width"), {"input_size": [320, 320]}, [100, 100, 300, 200]),
        # stretched, not letterboxed, into 640 x 640: x * 1, y * 4 / 3
        ((1, 3, 640, 640), {"letterbox": False}, [50, 68, 150, 105]),
    ],
)
def test_input_size_and_letterbox_decide_the_mapping_back_to_the_frame(
    tmp_path: Path, input_shape: tuple[Any, ...], params: dict[str, Any], frame_box: list[int]
) -> None:
    raw = yolov8_rows([(50, 90, 150, 140)], [[0.9]])
    model = constant_detector(tmp_path / "model.onnx", raw, input_shape=input_shape)
    plugin = make(OnnxDetect, model=str(model), **params)
    plugin.setup()

    detections = plugin.process({"image": np.zeros((480, 640, 3), np.uint8)}, CONTEXT)

    assert detections["detections"] == [
        {"box": frame_box, "score": pytest.approx(0.9), "label": "0"}
    ]


@needs_onnx
@pytest.mark.parametrize("resizer", ["opencv", "pillow"])
def test_boxes_follow_the_image_content_and_labels_come_from_model_metadata(
    tmp_path: Path, resizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if resizer == "pillow":
        monkeypatch.setattr(onnx_detector_module, "_CV2", None)
    elif onnx_detector_module._CV2 is None:
        pytest.skip("OpenCV is not installed")
    model = ink_band_detector(tmp_path / "ink.onnx", metadata=WORD_LABELS)
    image = np.full((240, 320, 3), 255, np.uint8)
    image[50:70, 30:90] = 0  # band [40, 120)
    image[130:190, 200:260] = 20  # band [120, 200)
    plugin = make(OnnxDetect, model=str(model))
    plugin.setup()

    detections = plugin.process({"image": image}, CONTEXT)["detections"]

    assert [item["box"] for item in detections] == [[30, 50, 90, 70], [200, 130, 260, 190]]
    assert {item["label"] for item in detections} == {"word"}
    assert all(item["score"] == pytest.approx(0.9) for item in detections)


@needs_onnx
def test_a_label_list_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    model = constant_detector(tmp_path / "c.onnx", yolov8_rows([(0, 0, 9, 9)], [[0.9, 0.1]]))
    plugin = make(OnnxDetect, model=str(model), labels=["only_one"])
    plugin.setup()

    with pytest.raises(ValueError, match="scores 2 classes but 1 labels"):
        plugin.process({"image": np.zeros((64, 64, 3), np.uint8)}, CONTEXT)


def test_a_missing_model_file_fails_when_the_pipeline_loads(tmp_path: Path) -> None:
    write_pipeline(
        tmp_path,
        "detect",
        """
        nodes:
          objects:
            plugin: onnx_detect
            params: {model: /nowhere/yolo.onnx}
        """,
    )

    with pytest.raises(PipelineSpecError) as caught:
        PipelineLibrary([tmp_path], shipped=False).load("detect")

    message = str(caught.value)
    assert "node 'objects': parameter 'model'" in message
    assert "no ONNX model file" in message
    assert "/nowhere/yolo.onnx" in message


@needs_onnx
def test_a_model_removed_after_loading_fails_in_setup_naming_the_file(tmp_path: Path) -> None:
    model = constant_detector(tmp_path / "gone.onnx", yolov8_rows([(0, 0, 9, 9)], [[0.9]]))
    write_pipeline(
        tmp_path,
        "detect",
        f"nodes: {{objects: {{plugin: onnx_detect, params: {{model: {model}}}}}}}",
    )
    runner = DagPipelineRunner(PipelineLibrary([tmp_path], shipped=False))
    runner.library.load("detect")
    model.unlink()

    with pytest.raises(PluginError) as caught:
        runner.run_pipeline("detect", frame_payload(np.zeros((32, 32, 3), np.uint8)))

    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert "gone.onnx" in str(caught.value)


# --- crop_boxes and annotate ------------------------------------------------------------


def test_crop_boxes_pads_clips_and_skips_small_or_unwanted_boxes() -> None:
    image = np.arange(80 * 100 * 3, dtype=np.uint32).reshape(80, 100, 3).astype(np.uint8)
    detections = [
        {"box": [10, 10, 30, 40], "score": 0.9, "label": "a"},
        {"box": [90, 70, 120, 100], "score": 0.8, "label": "b"},  # clipped: 10 x 10 inside
        {"box": [50, 50, 52, 60], "score": 0.7, "label": "a"},  # 2 px wide: too small
    ]

    crops = make(CropBoxes, padding=5, min_size=3).process(
        {"image": image, "detections": detections}, CONTEXT
    )["crops"]
    only_b = make(CropBoxes, labels=["b"]).process(
        {"image": image, "detections": detections}, CONTEXT
    )["crops"]

    assert [(crop["box"], crop["label"], crop["score"]) for crop in crops] == [
        ([5, 5, 35, 45], "a", 0.9),
        ([85, 65, 100, 80], "b", 0.8),
    ]
    for crop in crops:
        x1, y1, x2, y2 = crop["box"]
        np.testing.assert_array_equal(crop["image"], image[y1:y2, x1:x2])
    assert [crop["box"] for crop in only_b] == [[90, 70, 100, 80]]


@pytest.mark.parametrize("backend", ["opencv", "pillow"])
def test_annotate_draws_every_bound_input_on_a_copy(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "pillow":
        monkeypatch.setattr(boxes_module, "_opencv", lambda: None)
    elif boxes_module._opencv() is None:
        pytest.skip("OpenCV is not installed")
    image = np.full((100, 120, 3), 128, np.uint8)
    original = image.copy()
    inputs = {
        "image": image,
        "detections": [{"box": [10, 10, 50, 40], "score": 0.9, "label": "cat"}],
        "texts": [
            {
                "text": "hi",
                "score": 0.99,
                "box": [60, 50, 100, 80],
                "points": [[60, 50], [99, 50], [99, 79], [60, 79]],
            },
        ],
        "codes": [{"text": "qr", "box": [5, 60, 30, 90], "points": [[5, 60], [29, 60], [29, 89]]}],
        "markers": [{"id": 7, "box": [70, 5, 110, 40], "corners": [[70, 5], [109, 5], [109, 39]]}],
    }

    annotated = make(Annotate).process(inputs, CONTEXT)["image"]

    assert annotated.shape == image.shape
    assert annotated.dtype == np.uint8
    np.testing.assert_array_equal(image, original)  # the input frame is left alone
    for item in (
        inputs["detections"][0],
        inputs["texts"][0],
        inputs["codes"][0],
        inputs["markers"][0],
    ):
        x1, y1, _, y2 = item["box"]
        assert tuple(annotated[(y1 + y2) // 2, x1]) != (128, 128, 128), item
    assert tuple(annotated[95, 115]) == (128, 128, 128)  # far from everything


def test_annotate_with_nothing_bound_gives_the_frame_back(tmp_path: Path) -> None:
    write_pipeline(tmp_path, "draw", "nodes: {drawn: {plugin: annotate}}")
    image = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)

    result = DagPipelineRunner(PipelineLibrary([tmp_path], shipped=False)).run_pipeline(
        "draw", frame_payload(image)
    )

    # An image among a pipeline's outputs is summarised in the (JSON) result ...
    assert result["drawn"]["image"] == {"array": {"shape": [24, 32, 3], "dtype": "uint8"}}
    # ... and the plugin itself hands the frame back untouched.
    unbound = {"image": image, "detections": None, "codes": None, "texts": None, "markers": None}
    np.testing.assert_array_equal(make(Annotate).process(unbound, CONTEXT)["image"], image)


# --- ocr and the shipped pipelines ---------------------------------------------------


def test_reading_order_is_by_line_then_left_to_right() -> None:
    texts = [
        {"text": "c", "box": [0, 40, 20, 60]},
        {"text": "b", "box": [50, 0, 70, 22]},  # a little higher than a, same line
        {"text": "a", "box": [0, 4, 20, 26]},
        {"text": "d", "box": [30, 42, 50, 62]},
    ]

    assert [item["text"] for item in reading_order(texts)] == ["a", "b", "c", "d"]


@needs_ocr
def test_text_pipeline_reads_every_rendered_word_where_it_was_drawn(
    word_video: tuple[Path, list[list[Word]]],
) -> None:
    path, truth = word_video
    service = VideoFilePipelineService(
        DagPipelineRunner(), frame_source=create_frame_source("imageio_ffmpeg")
    )

    results = service.run_on_file("text", path)

    assert [item["frame_index"] for item in results] == [0, 1, 2]
    for item, words in zip(results, truth, strict=True):
        texts = item["result"]["text"]["texts"]
        assert [normalise(text["text"]) for text in texts] == [normalise(w.text) for w in words]
        for text, word in zip(texts, words, strict=True):
            assert set(text) == {"text", "score", "box", "points"}
            assert 0.5 <= text["score"] <= 1.0
            assert_box_around(text["box"], word.ink)
            assert len(text["points"]) == 4
            x1, y1, x2, y2 = text["box"]
            assert all(x1 <= x <= x2 for x, _ in text["points"]), text
            assert all(y1 <= y <= y2 for _, y in text["points"]), text


@needs_ocr
def test_ocr_runs_offline_from_the_models_inside_the_rapidocr_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    downloader = "rapidocr.utils.download_file"  # RapidOCR's own model downloader
    if find_spec(downloader) is not None:
        monkeypatch.setattr(f"{downloader}.DownloadFile.run", refuse)
    package = Path(importlib.import_module("rapidocr").__file__).resolve().parent
    image, _ = render_words([("Offline", (20, 40)), ("READ", (160, 140))])

    plugin = make(Ocr)
    plugin.setup()
    texts = plugin.process({"image": image}, CONTEXT)["texts"]

    assert {"det", "rec"} <= set(plugin.model_paths)
    for model_path in plugin.model_paths.values():
        assert model_path.is_file()
        assert model_path.is_relative_to(package / "models")
    assert [normalise(text["text"]) for text in texts] == ["offline", "read"]


@needs_ocr
@needs_onnx
def test_yolo_ocr_reads_the_text_inside_each_detection(
    word_video: tuple[Path, list[list[Word]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, truth = word_video
    model = ink_band_detector(tmp_path / "words.onnx", metadata=WORD_LABELS)
    monkeypatch.setenv("VIDEOPIPE_YOLO_MODEL", str(model))
    service = VideoFilePipelineService(
        DagPipelineRunner(), frame_source=create_frame_source("imageio_ffmpeg")
    )

    results = service.run_on_file("yolo_ocr", path)

    for item, words in zip(results, truth, strict=True):
        assert set(item["result"]) == {"objects", "text"}
        detections = item["result"]["objects"]["detections"]
        banded = [
            [w for w in words if top <= w.ink[1] and w.ink[3] <= bottom] for top, bottom in BANDS
        ]
        expected_boxes = [
            [
                min(w.ink[0] for w in band),
                min(w.ink[1] for w in band),
                max(w.ink[2] for w in band),
                max(w.ink[3] for w in band),
            ]
            for band in banded
            if band
        ]
        found_boxes = sorted(d["box"] for d in detections)
        assert len(found_boxes) == len(expected_boxes), item["frame_index"]
        assert np.abs(np.subtract(found_boxes, sorted(expected_boxes))).max() <= 2, found_boxes
        assert all(d["label"] == "word" and d["score"] == pytest.approx(0.9) for d in detections)
        texts = item["result"]["text"]["texts"]
        assert [normalise(text["text"]) for text in texts] == [normalise(w.text) for w in words]
        for text, word in zip(texts, words, strict=True):
            assert_box_around(text["box"], word.ink)
            x1, y1, x2, y2 = detections[text["crop"]]["box"]
            inside = [
                text["box"][0] - x1,
                text["box"][1] - y1,
                x2 - text["box"][2],
                y2 - text["box"][3],
            ]
            assert min(inside) >= -9, (text, detections)  # the crops' padding: 8


def test_yolo_ocr_without_a_model_fails_at_load_saying_how_to_configure_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VIDEOPIPE_YOLO_MODEL", raising=False)

    with pytest.raises(PipelineSpecError) as caught:
        PipelineLibrary().load("yolo_ocr")

    message = str(caught.value)
    assert "yolo_ocr.yaml, node 'objects'" in message
    assert (
        "parameter 'model' (path of the .onnx model file) comes from the environment "
        "variable VIDEOPIPE_YOLO_MODEL" in message
    )
    assert "export VIDEOPIPE_YOLO_MODEL=" in message


def test_a_pipeline_using_ocr_without_rapidocr_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = spec_module.importlib.util.find_spec

    def without_rapidocr(name: str, *args: Any) -> Any:
        return None if name == "rapidocr" else real_find_spec(name, *args)

    monkeypatch.setattr(spec_module.importlib.util, "find_spec", without_rapidocr)

    with pytest.raises(MissingDependencyError) as caught:
        PipelineLibrary().load("text")

    assert caught.value.extra == "ocr"
    assert 'pip install "videopipe[ocr]"' in str(caught.value)
