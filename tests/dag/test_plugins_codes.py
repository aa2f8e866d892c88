"""The code plugins (qr_decode, aruco_markers) on H.264 videos whose codes we drew."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dag.measure_qr import Drawn, background, draw_code, draw_symbol, encode_video
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.plugins.codes import ArucoMarkers, QRDecode
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.dag.spec import params_model
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import PipelineSpecError
from videopipe.ports.plugins import FrameContext, Param

cv2 = pytest.importorskip("cv2", reason="the opencv extra is not installed")
pytest.importorskip("zxingcpp", reason="the qr extra (zxing-cpp) is not installed")
segno = pytest.importorskip("segno", reason="segno (QR encoder for the tests) is not installed")

WIDTH, HEIGHT, FRAMES = 480, 360, 24
BOX_TOLERANCE = 5  # pixels: zxing extrapolates the corner without a finder pattern (~3 px)
CONTEXT = FrameContext("test", "node", 0, 0.0)


def run(pipeline_id: str, path: Path, folder: Path | None = None) -> list[dict[str, Any]]:
    library = PipelineLibrary([folder] if folder else [])
    service = VideoFilePipelineService(
        DagPipelineRunner(library), frame_source=create_frame_source("imageio_ffmpeg")
    )
    return service.run_on_file(pipeline_id, path)


def assert_near_box(found: list[int], drawn: Drawn, tolerance: float = BOX_TOLERANCE) -> None:
    assert all(isinstance(value, int) for value in found), found
    assert max(abs(a - b) for a, b in zip(found, drawn.box, strict=True)) <= tolerance, (
        found,
        drawn.box,
    )


def assert_near_points(found: list[list[float]], drawn: Drawn, tolerance: float) -> None:
    assert len(found) == 4
    for (x, y), (tx, ty) in zip(found, drawn.corners, strict=True):
        assert math.hypot(x - tx, y - ty) <= tolerance, (found, drawn.corners)


# -- QR codes ---------------------------------------------------------------------------


def qr_frame(index: int, rng: np.random.Generator) -> tuple[np.ndarray[Any, Any], list[Drawn]]:
    """Frame ``index``: a moving code, a small one on even frames, a turned one on 1 mod 4.

    Frame 11 has no code at all.
    """
    frame = background(WIDTH, HEIGHT, rng)
    if index == 11:
        return frame, []
    drawn = [
        draw_code(
            frame, f"frame-{index}", 96 + (index % 3) * 8, at=(20 + 3 * index, 30 + 2 * index)
        )
    ]
    if index % 2 == 0:
        drawn.append(draw_code(frame, f"small-{index:02d}", 64, at=(300, 40 + 4 * index)))
    elif index % 4 == 1:
        angle = (15.0, 30.0, 45.0)[(index // 4) % 3]
        drawn.append(draw_code(frame, f"turned-{index}", 80, at=(290, 170), angle=angle))
    return frame, drawn


@pytest.fixture(scope="module")
def qr_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[Drawn]]]:
    rng = np.random.default_rng(7)
    made = [qr_frame(index, rng) for index in range(FRAMES)]
    path = tmp_path_factory.mktemp("codes") / "qr.mp4"
    encode_video(path, (frame for frame, _ in made), WIDTH, HEIGHT, crf=18)
    return path, [drawn for _, drawn in made]


def test_qr_codes_pipeline_reads_every_code_of_every_frame(
    qr_video: tuple[Path, list[list[Drawn]]],
) -> None:
    path, truth = qr_video
    assert sum(len(drawn) for drawn in truth) == 23 + 12 + 6  # moving, small, turned
    results = run("qr_codes", path)
    assert [item["frame_index"] for item in results] == list(range(FRAMES))
    json.dumps(results)  # plain Python values only
    for item, drawn in zip(results, truth, strict=True):
        codes = item["result"]["codes"]["codes"]
        by_text = {code.text: code for code in drawn}
        assert sorted(code["text"] for code in codes) == sorted(by_text), item["frame_index"]
        assert codes == sorted(codes, key=lambda code: (code["box"][1], code["box"][0]))
        for code in codes:
            assert set(code) == {"text", "box", "points"}
            assert_near_box(code["box"], by_text[code["text"]])
            assert_near_points(code["points"], by_text[code["text"]], BOX_TOLERANCE)


@pytest.mark.parametrize("backend", ["opencv_aruco", "opencv"])
def test_opencv_backends_read_a_clear_code(backend: str) -> None:
    frame = np.full((HEIGHT, WIDTH, 3), 230, np.uint8)
    drawn = draw_code(frame, "hello opencv", 150, at=(100, 80))
    plugin = QRDecode(backend=backend, formats=["QRCode"])
    plugin.setup()
    codes = plugin.process({"image": frame}, CONTEXT)["codes"]
    assert [code["text"] for code in codes] == ["hello opencv"]
    assert_near_box(codes[0]["box"], drawn, 2)
    assert_near_points(codes[0]["points"], drawn, 2)


def test_formats_restrict_what_zxing_reads() -> None:
    frame = np.full((HEIGHT, WIDTH, 3), 230, np.uint8)
    micro = np.asarray(
        [[0 if dark else 255 for dark in row] for row in segno.make_micro("12345").matrix],
        np.uint8,
    )
    micro = np.pad(micro, 2, constant_values=255)
    draw_symbol(frame, micro, 60, at=(40, 40), quiet=2, label="12345")
    draw_code(frame, "regular", 100, at=(250, 100))

    def texts(formats: list[str]) -> list[str]:
        plugin = QRDecode(backend="zxing", formats=formats)
        plugin.setup()
        return [code["text"] for code in plugin.process({"image": frame}, CONTEXT)["codes"]]

    assert texts(["QRCode"]) == ["regular"]
    assert texts(["MicroQRCode"]) == ["12345"]
    assert texts(["QRCode", "MicroQRCode"]) == ["12345", "regular"]  # sorted by (y1, x1)


def test_an_opencv_backend_refuses_other_formats() -> None:
    with pytest.raises(ValueError, match="QRCode only"):
        QRDecode(backend="opencv", formats=["MicroQRCode"]).setup()


def test_no_code_gives_an_empty_list() -> None:
    plugin = QRDecode(backend="zxing", formats=["QRCode"])
    plugin.setup()
    blank = np.full((64, 64, 3), 128, np.uint8)
    assert plugin.process({"image": blank}, CONTEXT) == {"codes": []}


# -- ArUco markers ----------------------------------------------------------------------

ARUCO_IDS = 50  # DICT_4X4_50


def aruco_cells(marker_id: int) -> np.ndarray[Any, Any]:
    """Marker ``marker_id`` of DICT_4X4_50, one pixel a cell, with a one-cell white margin."""
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    cells = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
    return np.pad(cells, 1, constant_values=255)


def aruco_frame(index: int, rng: np.random.Generator) -> tuple[np.ndarray[Any, Any], list[Drawn]]:
    """Two markers whose ids change every frame, and a third, turned one on odd frames."""
    frame = background(WIDTH, HEIGHT, rng)
    ids = [index % ARUCO_IDS, (7 * index + 3) % ARUCO_IDS]
    places = [((30 + 4 * index, 40), 72, 0.0), ((320, 50 + 3 * index), 60, 0.0)]
    if index % 2:
        ids.append(ARUCO_IDS - 1 - index)
        places.append(((140, 190), 84, (20.0, 35.0)[(index // 2) % 2]))
    assert len(set(ids)) == len(ids)
    drawn = [
        draw_symbol(
            frame, aruco_cells(marker_id), size, at=at, angle=angle, quiet=1, label=str(marker_id)
        )
        for marker_id, (at, size, angle) in zip(ids, places, strict=True)
    ]
    return frame, drawn


@pytest.fixture(scope="module")
def aruco_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[Drawn]]]:
    rng = np.random.default_rng(11)
    made = [aruco_frame(index, rng) for index in range(FRAMES)]
    path = tmp_path_factory.mktemp("codes") / "aruco.mp4"
    encode_video(path, (frame for frame, _ in made), WIDTH, HEIGHT, crf=18)
    return path, [drawn for _, drawn in made]


def test_aruco_pipeline_finds_every_marker_of_every_frame(
    aruco_video: tuple[Path, list[list[Drawn]]],
) -> None:
    path, truth = aruco_video
    results = run("aruco", path)
    assert [item["frame_index"] for item in results] == list(range(FRAMES))
    json.dumps(results)
    for item, drawn in zip(results, truth, strict=True):
        markers = item["result"]["markers"]["markers"]
        by_id = {int(marker.text): marker for marker in drawn}
        assert [marker["id"] for marker in markers] == sorted(by_id), item["frame_index"]
        for marker in markers:
            assert set(marker) == {"id", "box", "corners"}
            assert isinstance(marker["id"], int)
            assert_near_box(marker["box"], by_id[marker["id"]], 2)
            assert_near_points(marker["corners"], by_id[marker["id"]], 2)


def test_another_dictionary_finds_nothing_of_ours(
    aruco_video: tuple[Path, list[list[Drawn]]], tmp_path: Path
) -> None:
    (tmp_path / "tags.yaml").write_text(
        "nodes:\n  markers:\n    plugin: aruco_markers\n"
        "    params: {dictionary: DICT_APRILTAG_36h11, corner_refinement: none}\n"
    )
    path, _ = aruco_video
    results = run("tags", path, tmp_path)
    assert all(item["result"]["markers"] == {"markers": []} for item in results)


# -- loading and describing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "params", "problem"),
    [
        ("qr_decode", "{backend: quirc}", "backend"),
        ("qr_decode", "{backend: 3}", "backend"),
        ("qr_decode", "{formats: QRCode}", "formats"),
        ("qr_decode", "{formats: [EAN13]}", "formats"),
        ("qr_decode", "{format: [QRCode]}", "unknown parameter 'format'"),
        ("aruco_markers", "{dictionary: DICT_9X9_50}", "dictionary"),
        ("aruco_markers", "{dictionary: 50}", "dictionary"),
        ("aruco_markers", "{corner_refinement: fast}", "corner_refinement"),
        ("aruco_markers", "{dict: DICT_4X4_50}", "unknown parameter 'dict'"),
    ],
)
def test_a_wrong_parameter_fails_at_load(
    tmp_path: Path, plugin: str, params: str, problem: str
) -> None:
    (tmp_path / "bad.yaml").write_text(
        textwrap.dedent(
            f"""\
            nodes:
              reader:
                plugin: {plugin}
                params: {params}
            """
        )
    )
    with pytest.raises(PipelineSpecError, match=problem):
        PipelineLibrary([tmp_path]).load("bad")


def test_the_shipped_pipelines_load_with_their_parameters() -> None:
    library = PipelineLibrary()
    qr = library.load("qr_codes")
    assert qr.nodes["codes"].plugin is QRDecode
    assert dict(qr.nodes["codes"].params) == {"backend": "zxing", "formats": ["QRCode"]}
    aruco = library.load("aruco")
    assert aruco.nodes["markers"].plugin is ArucoMarkers
    assert dict(aruco.nodes["markers"].params) == {
        "dictionary": "DICT_4X4_50",
        "corner_refinement": "subpix",
    }


@pytest.mark.parametrize(
    ("name", "cls", "output", "params", "requires"),
    [
        ("qr_decode", QRDecode, "codes", {"backend", "formats"}, {"zxingcpp": "qr"}),
        (
            "aruco_markers",
            ArucoMarkers,
            "markers",
            {"dictionary", "corner_refinement"},
            {"cv2": "opencv"},
        ),
    ],
)
def test_the_plugins_describe_themselves(
    name: str, cls: type[Any], output: str, params: set[str], requires: dict[str, str]
) -> None:
    assert PluginRegistry(entry_points=False).get(name) is cls
    assert cls.name == name
    assert cls.description
    assert "Output:" in (cls.__doc__ or "")
    assert set(cls.outputs) == {output}
    assert set(cls.inputs) == {"image"}
    assert set(cls.params) == params
    for param in cls.params.values():
        assert isinstance(param, Param)
        assert not param.required
        assert param.help
    assert dict(cls.requires) == requires
    schema = params_model(cls).model_json_schema()
    assert set(schema["properties"]) == params


def test_the_choices_are_listed_in_the_schema() -> None:
    qr = params_model(QRDecode).model_json_schema()["properties"]
    assert qr["backend"]["enum"] == ["zxing", "opencv_aruco", "opencv"]
    assert qr["backend"]["default"] == "zxing"
    aruco = params_model(ArucoMarkers).model_json_schema()["properties"]
    assert "DICT_4X4_50" in aruco["dictionary"]["enum"]
    assert aruco["dictionary"]["default"] == "DICT_4X4_50"
