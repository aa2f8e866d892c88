"""face_detect and person_detect: real photos at known places in H.264 videos.

Faces: NASA's portrait of Eileen Collins, shipped inside scikit-image's wheel
(``skimage.data.astronaut()``, public domain), its face box labelled by hand.
People: a pedestrian from ``vtest.avi``, OpenCV's sample video for its HOG people
detector, as Debian's ``opencv-doc`` package ships it (Apache-2.0 / BSD-3-Clause),
labelled by hand; tests that need it are skipped when that package is not installed.
Each photo is pasted on a plain canvas, moving 4 px a frame, and encoded with the
bundled ffmpeg; frames without the face or person show another part of the same photo.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.plugins.detectors import FaceDetect, PersonDetect, non_max_suppression
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.dag.spec import params_model
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import PipelineSpecError
from videopipe.ports.plugins import FrameContext, Plugin

Image = np.ndarray[Any, Any]
Box = tuple[int, int, int, int]

ASTRONAUT_FACE: Box = (180, 80, 272, 166)
"""The face in ``skimage.data.astronaut()``, by hand: cheek to cheek, hairline to chin."""
ASTRONAUT_FACE_REGION: Box = (140, 30, 310, 200)
ASTRONAUT_SHUTTLE_REGION: Box = (340, 20, 510, 190)
"""A part of the same photo with no face in it (the shuttle model)."""

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_PERSON: Box = (254, 220, 283, 307)
"""The man on the left of vtest.avi's frame 0, by hand: head to feet, back to heel."""
VTEST_REGION: Box = (215, 190, 325, 340)
VTEST_EMPTY_FRAME = 120
"""A frame in which nobody is inside VTEST_REGION."""

CANVAS_GREY = 128
STEP = 4
"""Pixels the photo moves each frame."""


def iou(a: Box | list[int], b: Box | list[int]) -> float:
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def cut(image: Image, region: Box) -> Image:
    return np.ascontiguousarray(image[region[1] : region[3], region[0] : region[2]])


def resized(image: Image, scale: float) -> Image:
    if scale == 1:
        return image
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation))


def encode_h264(path: Path, images: list[Image]) -> Path:
    height, width = images[0].shape[:2]
    command = [bundled_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"]
    command += ["-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", "25", "-i", "pipe:0"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(command, input=b"".join(image.tobytes() for image in images), check=True)
    return path


def moving_photo_video(
    path: Path,
    *,
    with_object: Image,
    without_object: Image,
    object_box: Box,
    size: tuple[int, int],
    frames: int = 12,
    first: int = 2,
    last: int = 9,
) -> tuple[Path, list[Box | None]]:
    """Frames ``first..last`` show ``with_object``, moving STEP px right per frame.

    The other frames show ``without_object`` (same size) where the first one starts.
    ``object_box`` is the object's box inside ``with_object``; the truth returned is
    its box in each frame (None: no object in that frame).
    """
    width, height = size
    images: list[Image] = []
    truth: list[Box | None] = []
    top = (height - with_object.shape[0]) // 2
    for index in range(frames):
        canvas = np.full((height, width, 3), CANVAS_GREY, np.uint8)
        shown = first <= index <= last
        left = 20 + STEP * (min(max(index, first), last) - first)
        patch = with_object if shown else without_object
        canvas[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
        images.append(canvas)
        truth.append(shifted(object_box, left, top) if shown else None)
    return encode_h264(path, images), truth


def scaled_box(box: Box, origin: Box, scale: float) -> Box:
    """``box`` (photo pixels) inside the region ``origin``, scaled by ``scale``."""
    x1, y1, x2, y2 = (round((value - origin[index % 2]) * scale) for index, value in enumerate(box))
    return (x1, y1, x2, y2)


def shifted(box: Box, dx: int, dy: int) -> Box:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def run(pipeline_id: str, video: Path, library: PipelineLibrary | None = None) -> list[Any]:
    runner = DagPipelineRunner(library)
    service = VideoFilePipelineService(runner, frame_source=create_frame_source("imageio_ffmpeg"))
    try:
        return service.run_on_file(pipeline_id, video)
    finally:
        runner.close()


def assert_found_exactly(detections: list[list[dict[str, Any]]], truth: list[Box | None]) -> None:
    """Every frame with the object has detections, all on it; the others have none."""
    assert len(detections) == len(truth)
    for index, (found, expected) in enumerate(zip(detections, truth, strict=True)):
        if expected is None:
            assert found == [], index
            continue
        assert found, (index, expected)
        for detection in found:
            assert iou(detection["box"], expected) >= 0.5, (index, detection, expected)


def make(plugin: type[Plugin], **params: Any) -> Plugin:
    """A set-up plugin with the pipeline loader's defaults for the params not given."""
    instance = plugin(**params_model(plugin).model_validate(params).model_dump())
    instance.setup()
    return instance


CONTEXT = FrameContext("test", "node", 0, 0.0)


@pytest.fixture(scope="module")
def astronaut() -> Image:
    """``skimage.data.astronaut()``, read from the file in scikit-image's wheel (no download)."""
    from skimage import data  # noqa: PLC0415 - test-only dependency, only the face tests need it

    path = Path(str(data.__file__)).parent / "astronaut.png"
    assert path.is_file(), f"scikit-image no longer ships {path.name} in its wheel"
    bgr = cv2.imread(str(path))
    assert bgr is not None, f"OpenCV cannot read {path}"
    image: Image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    assert image.shape == (512, 512, 3)
    return image


@pytest.fixture(scope="module")
def vtest() -> dict[int, Image]:
    """Frames 0 and VTEST_EMPTY_FRAME of vtest.avi, RGB."""
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} is missing: apt-get install opencv-doc (OpenCV's sample data)")
    capture = cv2.VideoCapture(str(VTEST))
    frames = {}
    try:
        for index in range(VTEST_EMPTY_FRAME + 1):
            ok, frame = capture.read()
            assert ok, f"vtest.avi ended before frame {index}"
            if index in (0, VTEST_EMPTY_FRAME):
                frames[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
    assert frames[0].shape == (576, 768, 3)
    return frames


def write_pipeline(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# -- shipped pipelines ------------------------------------------------------------------


def test_the_shipped_pipelines_use_the_detectors() -> None:
    library = PipelineLibrary()
    assert library.load("faces").nodes["faces"].plugin is FaceDetect
    assert library.load("people").nodes["people"].plugin is PersonDetect
    registry = PluginRegistry(entry_points=False)
    assert registry.get("face_detect") is FaceDetect
    assert registry.get("person_detect") is PersonDetect
    assert FaceDetect.requires == {"cv2": "opencv"} == PersonDetect.requires


# -- faces ------------------------------------------------------------------------------


def test_faces_are_found_exactly_where_the_face_is(tmp_path: Path, astronaut: Image) -> None:
    scale = 0.5
    face = resized(cut(astronaut, ASTRONAUT_FACE_REGION), scale)
    video, truth = moving_photo_video(
        tmp_path / "faces.mp4",
        with_object=face,
        without_object=resized(cut(astronaut, ASTRONAUT_SHUTTLE_REGION), scale),
        object_box=scaled_box(ASTRONAUT_FACE, ASTRONAUT_FACE_REGION, scale),
        size=(320, 240),
    )
    results = run("faces", video)
    assert [item["frame_index"] for item in results] == list(range(12))
    detections = [item["result"]["faces"]["detections"] for item in results]
    assert_found_exactly(detections, truth)
    for found in detections:
        for detection in found:
            assert detection["label"] == "face"
            assert type(detection["score"]) is float
            assert [type(value) for value in detection["box"]] == [int] * 4


def test_faces_are_sorted_by_score_and_plain_python(astronaut: Image) -> None:
    canvas = np.full((300, 480, 3), CANVAS_GREY, np.uint8)
    big = cut(astronaut, ASTRONAUT_FACE_REGION)  # 170x170, face ~92 px
    small = resized(big, 0.4)  # 68x68, face ~37 px
    canvas[20:190, 20:190] = big
    canvas[100:168, 300:368] = small
    truths = [
        shifted(scaled_box(ASTRONAUT_FACE, ASTRONAUT_FACE_REGION, 1.0), 20, 20),
        shifted(scaled_box(ASTRONAUT_FACE, ASTRONAUT_FACE_REGION, 0.4), 300, 100),
    ]
    output = make(FaceDetect).process({"image": canvas}, CONTEXT)
    assert set(output) == {"detections"}
    detections = output["detections"]
    assert len(detections) == 2
    scores = [detection["score"] for detection in detections]
    assert scores == sorted(scores, reverse=True)
    for truth in truths:
        assert max(iou(detection["box"], truth) for detection in detections) >= 0.5, truth
    for detection in detections:
        assert set(detection) == {"box", "score", "label"}
        assert type(detection["box"]) is list
        assert [type(value) for value in detection["box"]] == [int] * 4
        assert type(detection["score"]) is float
        assert detection["label"] == "face"
    # a threshold between the two scores keeps only the better face
    middle = (scores[0] + scores[1]) / 2
    kept = make(FaceDetect, score_threshold=middle).process({"image": canvas}, CONTEXT)
    assert kept["detections"] == detections[:1]


def test_image_scale_finds_small_faces_in_frame_pixels(astronaut: Image) -> None:
    scale = 0.2  # the face is ~18 px: below the cascade's 24 px window
    canvas = np.full((120, 160, 3), CANVAS_GREY, np.uint8)
    patch = resized(cut(astronaut, ASTRONAUT_FACE_REGION), scale)
    canvas[30 : 30 + patch.shape[0], 50 : 50 + patch.shape[1]] = patch
    truth = shifted(scaled_box(ASTRONAUT_FACE, ASTRONAUT_FACE_REGION, scale), 50, 30)
    assert make(FaceDetect, min_size=10).process({"image": canvas}, CONTEXT) == {"detections": []}
    found = make(FaceDetect, min_size=10, image_scale=2.0).process({"image": canvas}, CONTEXT)
    assert len(found["detections"]) == 1
    assert iou(found["detections"][0]["box"], truth) >= 0.5


def test_no_faces_on_plain_or_photo_frames_without_a_face(astronaut: Image) -> None:
    detector = make(FaceDetect)
    for image in (
        np.zeros((240, 320, 3), np.uint8),
        np.full((240, 320, 3), 200, np.uint8),
        cut(astronaut, ASTRONAUT_SHUTTLE_REGION),
    ):
        assert detector.process({"image": image}, CONTEXT) == {"detections": []}


# -- people -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline", "scale"),
    [
        pytest.param("people", 2.0, id="shipped-pipeline-person-176px"),
        pytest.param("people_small", 1.0, id="image_scale-2-person-88px"),
    ],
)
def test_people_are_found_exactly_where_the_person_is(
    tmp_path: Path, vtest: dict[int, Image], pipeline: str, scale: float
) -> None:
    write_pipeline(
        tmp_path / "pipelines",
        "people_small",
        """\
        nodes:
          people:
            plugin: person_detect
            params: {image_scale: 2.0}
        """,
    )
    person = resized(cut(vtest[0], VTEST_REGION), scale)
    empty = resized(cut(vtest[VTEST_EMPTY_FRAME], VTEST_REGION), scale)
    size = (400, 320) if scale > 1 else (320, 240)
    video, truth = moving_photo_video(
        tmp_path / "people.mp4",
        with_object=person,
        without_object=empty,
        object_box=scaled_box(VTEST_PERSON, VTEST_REGION, scale),
        size=size,
    )
    results = run(pipeline, video, PipelineLibrary([tmp_path / "pipelines"]))
    detections = [item["result"]["people"]["detections"] for item in results]
    assert_found_exactly(detections, truth)
    for found in detections:
        for detection in found:
            assert detection["label"] == "person"
            assert type(detection["score"]) is float
            assert detection["score"] > 0


def test_tight_trims_the_window_margins_around_the_person(vtest: dict[int, Image]) -> None:
    image = vtest[0]
    tight = make(PersonDetect, image_scale=2.0).process({"image": image}, CONTEXT)
    loose = make(PersonDetect, image_scale=2.0, tight=False).process({"image": image}, CONTEXT)
    best_tight = max(tight["detections"], key=lambda d: iou(d["box"], VTEST_PERSON))
    best_loose = max(loose["detections"], key=lambda d: iou(d["box"], VTEST_PERSON))
    assert iou(best_tight["box"], VTEST_PERSON) >= 0.5
    assert iou(best_loose["box"], VTEST_PERSON) < 0.5  # the raw 64x128 window is too big
    x1, y1, x2, y2 = best_loose["box"]
    assert x1 < best_tight["box"][0] < best_tight["box"][2] < x2
    assert y1 < best_tight["box"][1] < best_tight["box"][3] < y2
    scores = [detection["score"] for detection in tight["detections"]]
    assert scores == sorted(scores, reverse=True)


def test_no_people_on_empty_or_tiny_frames() -> None:
    detector = make(PersonDetect)
    for image in (
        np.zeros((240, 320, 3), np.uint8),
        np.full((480, 640, 3), 200, np.uint8),
        np.full((100, 50, 3), 90, np.uint8),  # smaller than the 64x128 window
        np.zeros((240, 320), np.uint8),  # gray
    ):
        assert detector.process({"image": image}, CONTEXT) == {"detections": []}


def test_non_max_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 20]], dtype=np.float64
    )
    scores = np.array([0.5, 0.9, 0.7, 0.8])
    # IoU: box 0 with box 1 0.68, with box 3 0.5; box 1 with box 3 0.43; box 2 alone
    assert non_max_suppression(boxes, scores, 0.3) == [1, 2]
    assert non_max_suppression(boxes, scores, 0.5) == [1, 3, 2]
    assert non_max_suppression(boxes, scores, 1.0) == [1, 3, 2, 0]
    assert non_max_suppression(np.zeros((0, 4)), np.zeros(0), 0.3) == []


# -- models load once -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline", "factory"), [("faces", "CascadeClassifier"), ("people", "HOGDescriptor")]
)
def test_the_model_is_loaded_once_per_run_not_per_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: str, factory: str
) -> None:
    real: Callable[..., Any] = getattr(cv2, factory)
    calls: list[tuple[Any, ...]] = []

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(cv2, factory, counting)
    frames = [np.full((160, 160, 3), 40 * index, np.uint8) for index in range(5)]
    results = run(pipeline, encode_h264(tmp_path / "plain.mp4", frames))
    assert len(results) == 5
    assert len(calls) == 1


# -- parameters are checked when the pipeline loads -----------------------------------


@pytest.mark.parametrize(
    ("plugin", "params", "message"),
    [
        ("face_detect", "{scale_factr: 1.2}", "unknown parameter 'scale_factr'"),
        ("face_detect", "{min_neighbors: many}", "parameter 'min_neighbors'"),
        ("face_detect", "{min_size: 2.5}", "parameter 'min_size'"),
        ("face_detect", "{scale_factor: 1.0}", "parameter 'scale_factor'"),
        ("face_detect", "{image_scale: 0}", "parameter 'image_scale'"),
        ("face_detect", "{equalize: sometimes}", "parameter 'equalize'"),
        ("person_detect", "{nms: 0.3}", "unknown parameter 'nms'"),
        ("person_detect", "{nms_overlap: 1.5}", "parameter 'nms_overlap'"),
        ("person_detect", "{win_stride: 12}", "multiple of 8"),
        ("person_detect", "{hit_threshold: [1]}", "parameter 'hit_threshold'"),
        ("person_detect", "{min_neighbors: -1}", "parameter 'min_neighbors'"),
    ],
)
def test_a_wrong_parameter_fails_when_the_pipeline_loads(
    tmp_path: Path, plugin: str, params: str, message: str
) -> None:
    folder = tmp_path / "pipelines"
    write_pipeline(
        folder, "bad", f"nodes:\n  detect:\n    plugin: {plugin}\n    params: {params}\n"
    )
    with pytest.raises(PipelineSpecError, match=message) as caught:
        PipelineLibrary([folder]).load("bad")
    assert "detect" in str(caught.value)


def test_good_parameters_load_with_their_types(tmp_path: Path) -> None:
    folder = tmp_path / "pipelines"
    write_pipeline(
        folder,
        "good",
        """\
        nodes:
          faces: {plugin: face_detect, params: {min_size: 20, max_size: 200, image_scale: 1.5}}
          people: {plugin: person_detect, params: {win_stride: 16, tight: false}}
        """,
    )
    pipeline = PipelineLibrary([folder]).load("good")
    assert pipeline.nodes["faces"].params["max_size"] == 200
    assert pipeline.nodes["faces"].params["image_scale"] == 1.5
    assert pipeline.nodes["people"].params["win_stride"] == 16
    assert pipeline.nodes["people"].params["tight"] is False
    assert set(pipeline.outputs) == {"faces", "people"}
