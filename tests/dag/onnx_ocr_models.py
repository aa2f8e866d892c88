"""Tiny ONNX detectors whose output is known, built with the ``onnx`` package (no download).

- :func:`constant_detector`: whatever the image, the given raw YOLO output.
- :func:`ink_band_detector`: a YOLOv8-layout model that finds, in each horizontal
  band of its input, the bounding box of the dark ("ink") pixels: box positions come
  from the image content, so drawing something dark at a known place gives a known box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8


def _save(
    path: Path,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    *,
    input_shape: list[int | str],
    output_shape: list[int | str],
    metadata: dict[str, str] | None = None,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "tiny_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def constant_detector(
    path: Path,
    output: np.ndarray,
    *,
    input_shape: tuple[int | str, ...] = (1, 3, 640, 640),
    metadata: dict[str, str] | None = None,
) -> Path:
    """A model whose output is ``output`` (plus 0 x the image's mean, so it reads its input)."""
    constant = np.asarray(output, dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["constant", "nothing"], ["output0"]),
    ]
    initializers = [
        numpy_helper.from_array(constant, "constant"),
        numpy_helper.from_array(np.zeros((), np.float32), "zero"),
    ]
    return _save(
        path,
        nodes,
        initializers,
        input_shape=list(input_shape),
        output_shape=list(constant.shape),
        metadata=metadata,
    )


def ink_band_detector(
    path: Path,
    *,
    size: int = 640,
    bands: int = 4,
    ink_below: float = 0.35,
    scores: tuple[float, ...] = (0.9, 0.05),
    metadata: dict[str, str] | None = None,
) -> Path:
    """A YOLOv8-layout model (1, 4 + C, bands) on a ``size`` x ``size`` input.

    Candidate ``k`` is the bounding box (input pixels, exclusive far edges) of the pixels
    of rows ``k * size / bands`` to ``(k + 1) * size / bands`` whose channel mean is under
    ``ink_below``; its class scores are ``scores`` when the band holds ink, else 0.
    """
    rows = size // bands
    assert rows * bands == size
    ramp = np.arange(1, size + 1, dtype=np.float32)  # column j -> j + 1
    ramp_rows = np.arange(1, rows + 1, dtype=np.float32)
    constants = {
        "threshold": np.array(ink_below, np.float32),
        "band_shape": np.array([1, bands, rows, size], np.int64),
        "ramp": ramp,
        "reverse": size + 1 - ramp,  # column j -> size - j
        "ramp_rows": ramp_rows,
        "reverse_rows": rows + 1 - ramp_rows,
        "size": np.array(size, np.float32),
        "rows": np.array(rows, np.float32),
        "band_top": (np.arange(bands, dtype=np.float32) * rows)[None],
        "half": np.array(0.5, np.float32),
        "row_shape": np.array([1, 1, bands], np.int64),
        "class_scores": np.asarray(scores, np.float32).reshape(1, len(scores), 1),
    }
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["gray"], axes=[1], keepdims=1),
        helper.make_node("Less", ["gray", "threshold"], ["is_ink"]),
        helper.make_node("Cast", ["is_ink"], ["ink"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["ink", "band_shape"], ["banded"]),
        helper.make_node("ReduceMax", ["banded"], ["columns"], axes=[2], keepdims=0),
        helper.make_node("ReduceMax", ["banded"], ["band_rows"], axes=[3], keepdims=0),
        # x2 = last ink column + 1; x1 = size - max(size - column) = first ink column
        helper.make_node("Mul", ["columns", "ramp"], ["columns_ramp"]),
        helper.make_node("ReduceMax", ["columns_ramp"], ["x2"], axes=[2], keepdims=0),
        helper.make_node("Mul", ["columns", "reverse"], ["columns_reverse"]),
        helper.make_node("ReduceMax", ["columns_reverse"], ["x1_back"], axes=[2], keepdims=0),
        helper.make_node("Sub", ["size", "x1_back"], ["x1"]),
        helper.make_node("Mul", ["band_rows", "ramp_rows"], ["rows_ramp"]),
        helper.make_node("ReduceMax", ["rows_ramp"], ["y2_in_band"], axes=[2], keepdims=0),
        helper.make_node("Add", ["y2_in_band", "band_top"], ["y2"]),
        helper.make_node("Mul", ["band_rows", "reverse_rows"], ["rows_reverse"]),
        helper.make_node("ReduceMax", ["rows_reverse"], ["y1_back"], axes=[2], keepdims=0),
        helper.make_node("Sub", ["rows", "y1_back"], ["y1_in_band"]),
        helper.make_node("Add", ["y1_in_band", "band_top"], ["y1"]),
        helper.make_node("ReduceMax", ["columns"], ["has_ink"], axes=[2], keepdims=0),
        helper.make_node("Add", ["x1", "x2"], ["x_sum"]),
        helper.make_node("Mul", ["x_sum", "half"], ["centre_x"]),
        helper.make_node("Add", ["y1", "y2"], ["y_sum"]),
        helper.make_node("Mul", ["y_sum", "half"], ["centre_y"]),
        helper.make_node("Sub", ["x2", "x1"], ["width"]),
        helper.make_node("Sub", ["y2", "y1"], ["height"]),
    ]
    for name in ("centre_x", "centre_y", "width", "height", "has_ink"):
        nodes.append(helper.make_node("Reshape", [name, "row_shape"], [f"{name}_row"]))
    nodes += [
        helper.make_node("Mul", ["has_ink_row", "class_scores"], ["scored"]),
        helper.make_node(
            "Concat",
            ["centre_x_row", "centre_y_row", "width_row", "height_row", "scored"],
            ["output0"],
            axis=1,
        ),
    ]
    initializers = [numpy_helper.from_array(value, name) for name, value in constants.items()]
    return _save(
        path,
        nodes,
        initializers,
        input_shape=[1, 3, size, size],
        output_shape=[1, 4 + len(scores), bands],
        metadata=metadata,
    )


def yolov8_rows(boxes: list[tuple[float, float, float, float]], class_scores: list[list[float]]):
    """A YOLOv8 raw output (1, 4 + C, N) from x1, y1, x2, y2 input-pixel boxes."""
    columns = [
        [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, *scores]
        for (x1, y1, x2, y2), scores in zip(boxes, class_scores, strict=True)
    ]
    return np.asarray(columns, np.float32).T[None]


def yolov5_rows(
    boxes: list[tuple[float, float, float, float]],
    objectness: list[float],
    class_scores: list[list[float]],
):
    """A YOLOv5 raw output (1, N, 5 + C) from x1, y1, x2, y2 input-pixel boxes."""
    rows = [
        [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, obj, *scores]
        for (x1, y1, x2, y2), obj, scores in zip(boxes, objectness, class_scores, strict=True)
    ]
    return np.asarray(rows, np.float32)[None]
