"""The ``scenes`` pipeline on the evaluation set: known boundaries found, no cut on a flash.

The floors are what the pipeline measured on this set (docs/benchmarks.md): hard cuts
F1 1.000 on their frames, mixed (dissolves, fades) F1 0.941 at +-1 frame with four
dissolves between moving shots missed, every hard cut and fade found, every kind right,
nothing reported on a flash or a damaged frame. The set is made once per module
(640x360, about 2,900 frames).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenes.evalset import Truth, generate
from tests.scenes.scoring import match
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import VideoFilePipelineService
from videopipe.domain.model import FrameSize

Detections = dict[int, str]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Truth, Detections]]:
    """Each evaluation video's truth and the pipeline's detections (frame -> kind)."""
    directory = tmp_path_factory.mktemp("scenes-eval")
    service = VideoFilePipelineService(DagPipelineRunner(), frame_source=create_frame_source())
    found = {}
    for name in ("hard", "mixed"):
        path, truth = generate(name, directory, 640, 360)
        results = service.run_on_file("scenes", path)
        assert len(results) == truth.frames
        scenes = {item["frame_index"]: item["result"]["scene"] for item in results}
        found[name] = (truth, {i: s["kind"] for i, s in scenes.items() if s["cut"]})
        assert all(s["cut"] == (s["kind"] is not None) for s in scenes.values())
    return found


def test_every_hard_cut_is_found_on_its_frame(evaluated):
    truth, detections = evaluated["hard"]
    score, missed, extra = match(detections, truth.boundaries, tolerance=0)
    assert missed == []
    assert extra == []
    assert score.f1 == 1.0


def test_no_cut_on_a_flash(evaluated):
    for truth, detections in evaluated.values():
        assert truth.flashes
        flashed = {frame + after for frame in truth.flashes for after in (0, 1)}
        assert not flashed & set(detections), truth.name


def test_no_cut_on_a_damaged_frame(evaluated):
    truth, detections = evaluated["hard"]
    assert len(truth.damaged) == 3
    damaged = {frame + after for frame in truth.damaged for after in (0, 1)}
    assert not damaged & set(detections)


def test_dissolves_and_fades_are_found(evaluated):
    truth, detections = evaluated["mixed"]
    score, missed, extra = match(detections, truth.boundaries, tolerance=1)
    assert score.f1 >= 0.94
    assert extra == []
    assert {boundary.kind for boundary in missed} <= {"dissolve"}
    assert len(missed) <= 4
    kinds = {boundary.kind for boundary in truth.boundaries}
    assert kinds == {"cut", "dissolve", "fade"}


def test_each_boundary_gets_its_kind(evaluated):
    for truth, detections in evaluated.values():
        for boundary in truth.boundaries:
            near = [f for f in detections if boundary.start - 1 <= f <= boundary.end + 1]
            for frame in near:
                assert detections[frame] == boundary.kind, (truth.name, boundary, frame)


def test_a_dissolve_is_reported_once_inside_its_span(evaluated):
    truth, detections = evaluated["mixed"]
    for boundary in truth.boundaries:
        inside = [f for f in detections if boundary.start <= f <= boundary.end + 1]
        assert len(inside) <= 1, boundary


def test_score_is_the_step_between_frames_off_boundaries(tmp_path: Path) -> None:
    truth_path, _truth = generate_short(tmp_path)
    service = VideoFilePipelineService(DagPipelineRunner(), frame_source=create_frame_source())
    scenes = [item["result"]["scene"] for item in service.run_on_file("scenes", truth_path)]
    assert scenes[0] == {"score": 0.0, "cut": False, "kind": None}
    steady = [s["score"] for s in scenes[5:35]]
    assert max(steady) < 0.2
    assert all(s["score"] > 0.4 for s in scenes if s["cut"])


def generate_short(directory: Path) -> tuple[Path, Truth]:
    """Two photo shots joined by a hard cut (the first shots of the mixed set's list)."""
    from tests.scenes import evalset  # noqa: PLC0415

    shots = [evalset.Shot("a", 40, evalset.camera("fruits.jpg", 160, 90, 40, pan=0.3))]
    shots.append(evalset.Shot("b", 30, evalset.camera("baboon.jpg", 160, 90, 30, pan=0.0)))
    truth = Truth("short", 0, evalset.FPS)
    path = directory / "short.mp4"
    evalset.write_frames(
        path, evalset.timeline(shots, [("cut", 0, 0, 0)], truth), width=160, height=90
    )
    return path, truth


def test_luma_frames_find_the_cuts_rgb_frames_find(tmp_path: Path) -> None:
    """The shipped pipeline reads the Y plane; forced to RGB it finds the same shots."""
    import videopipe  # noqa: PLC0415

    shipped = Path(videopipe.__file__).parent / "pipelines" / "scenes.yaml"
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "scenes_rgb.yaml").write_text(shipped.read_text() + "frame: {format: rgb24}\n")
    runner = DagPipelineRunner(PipelineLibrary([folder]))
    assert runner.frame_size("scenes_rgb") is None
    assert DagPipelineRunner().frame_size("scenes") == FrameSize(format="gray")
    megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"
    luma = VideoFilePipelineService(DagPipelineRunner(), frame_source=create_frame_source())
    rgb = VideoFilePipelineService(runner, frame_source=create_frame_source())
    by_luma = [item["result"]["scene"] for item in luma.run_on_file("scenes", megamind)]
    by_rgb = [item["result"]["scene"] for item in rgb.run_on_file("scenes_rgb", megamind)]
    assert [s["kind"] for s in by_luma] == [s["kind"] for s in by_rgb]
    assert sum(s["cut"] for s in by_luma) == 3  # Megamind.avi's own three cuts
    assert max(abs(a["score"] - b["score"]) for a, b in zip(by_luma, by_rgb, strict=True)) < 0.02
