"""The ``scenes`` pipeline next to PySceneDetect, on the same files in the same run.

The files are the shot-boundary evaluation set (``tests/scenes/evalset.py``: opencv-doc
footage and photos cut together at known frames), at 640x360 and 1920x1080: ``hard``
(hard cuts, with flashes, pans, dark and letterboxed shots between them) and
``mixed`` (cuts, dissolves of 6-24 frames, fades). Every tool runs as a whole process,
the way a user runs it: ``videopipe run F -p scenes`` and ``python -c`` calling
PySceneDetect's ``detect()`` with each detector's defaults. The table gives precision,
recall and F1 at 0 and +-1 frame (``tests/scenes/scoring.py``) and frames per second
(frames / wall time of the best of ``VIDEOPIPE_BENCH_ROUNDS`` runs) and frames per
CPU-second (user + system time of the process and its workers: the fairer measure on a
shared machine), plus the cost of the pipeline itself (engine and plugins, per frame,
in process), the pipeline forced to RGB frames (how it decoded before it read the luma
plane) and decode-only processes (RGB and luma).

Run: ``python -m pytest benchmarks/test_scenes_vs_pyscenedetect.py -s`` (about 10
minutes with the 1080p set). ``VIDEOPIPE_SCENES_EVAL_DIR`` reuses a directory of
already generated files; ``VIDEOPIPE_SCENES_SIZES=640x360`` limits the sizes;
``VIDEOPIPE_BENCH_REPORT`` receives the table as markdown. Speeds are never asserted.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.scenes.evalset import generate, load_truth
from tests.scenes.scoring import Score, match

NAMES = ("hard", "mixed")
SIZES = tuple(os.environ.get("VIDEOPIPE_SCENES_SIZES", "640x360,1920x1080").split(","))
DETECTORS = ("content", "adaptive", "hash", "histogram", "threshold")
PYSCENEDETECT = (
    "import json, sys, scenedetect as s\n"
    "detector = getattr(s, sys.argv[1].capitalize() + 'Detector')()\n"
    "scenes = s.detect(sys.argv[2], detector)\n"
    "open(sys.argv[3], 'w').write(json.dumps([scene[0].frame_num for scene in scenes][1:]))\n"
)
DECODE_ONLY = (
    "import sys\n"
    "from videopipe.adapters.decoders import create_frame_source\n"
    "from videopipe.domain.model import FrameSize\n"
    "size = FrameSize(format=sys.argv[3]) if sys.argv[3] != 'rgb24' else None\n"
    "with create_frame_source().open(sys.argv[1], size=size) as reader:\n"
    "    count = sum(1 for _ in reader.frames())\n"
    "open(sys.argv[2], 'w').write('[]')\n"
)
RGB_PIPELINE = "scenes_rgb"
"""The shipped ``scenes`` forced to RGB frames (``frame: {format: rgb24}``): how it ran
before it read the decoder's luma plane, timed in the same run."""


def _videopipe() -> str:
    found = shutil.which("videopipe", path=str(Path(sys.executable).parent))
    assert found, "the videopipe command is not installed next to this Python"
    return found


def rgb_pipelines(directory: Path) -> Path:
    """A directory holding :data:`RGB_PIPELINE` (for ``VIDEOPIPE_PIPELINE_PATH``)."""
    import videopipe  # noqa: PLC0415

    shipped = Path(videopipe.__file__).parent / "pipelines" / "scenes.yaml"
    directory.mkdir(parents=True, exist_ok=True)
    text = shipped.read_text() + "frame: {format: rgb24}\n"
    (directory / f"{RGB_PIPELINE}.yaml").write_text(text)
    return directory


def commands(video: Path, out: Path) -> dict[str, list[str]]:
    """Each tool's command line: it writes its detections (first frames of new shots) to out."""
    path_variable = f"VIDEOPIPE_PIPELINE_PATH={rgb_pipelines(out.parent / 'pipelines')}"
    tools = {
        "videopipe scenes (CLI, auto executor)": [
            _videopipe(), "run", str(video), "-p", "scenes", "-o", str(out),
        ],
        "videopipe scenes (CLI, sequential)": [
            _videopipe(), "run", str(video), "-p", "scenes", "-o", str(out),
            "--executor", "sequential",
        ],
        "videopipe scenes (CLI, sequential, RGB frames as before)": [
            "env", path_variable, _videopipe(), "run", str(video), "-p", RGB_PIPELINE,
            "-o", str(out), "--executor", "sequential",
        ],
    }  # fmt: skip
    for name in DETECTORS:
        tools[f"PySceneDetect {name}"] = [sys.executable, "-c", PYSCENEDETECT, name, str(video)]
        tools[f"PySceneDetect {name}"].append(str(out))
    for frame_format in ("rgb24", "gray"):
        tools[f"decode only (videopipe's decoder, {frame_format}, no pipeline)"] = [
            sys.executable, "-c", DECODE_ONLY, str(video), str(out), frame_format,
        ]  # fmt: skip
    return tools


def detections(out: Path) -> list[int]:
    """The frames a tool reported as new shots."""
    text = out.read_text()
    if text.startswith("["):
        return list(json.loads(text))
    found = []
    for line in text.splitlines():
        item = json.loads(line)
        if item["result"]["scene"]["cut"]:
            found.append(item["frame_index"])
    return found


def timed(command: list[str], rounds: int) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system, with any worker processes)
    of ``rounds`` runs of ``command`` (each must succeed)."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = min(wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpu = min(cpu, used)
    return wall, cpu


def pipeline_cost(video: Path) -> float:
    """CPU milliseconds per frame the scenes DAG (engine and three plugins) takes, in process.

    The calling thread's CPU time: the process's would count the decoder's own threads.
    Frames come as the CLI gets them (the size and format the pipeline declares).
    """
    from videopipe.adapters.decoders import create_frame_source  # noqa: PLC0415
    from videopipe.adapters.runners.dag import DagPipelineRunner  # noqa: PLC0415

    runner = DagPipelineRunner()
    spent, count = 0.0, 0
    with create_frame_source().open(str(video), size=runner.frame_size("scenes")) as reader:
        for frame in reader.frames():
            payload = {
                "frame_index": frame.index, "timestamp": frame.timestamp,
                "image": frame.image, "video_path": str(video),
                "format": frame.format, "luma_range": frame.luma_range,
            }  # fmt: skip
            started = time.thread_time()
            runner.run_pipeline("scenes", payload)
            spent += time.thread_time() - started
            count += 1
    runner.close()
    return 1000 * spent / count


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The evaluation set, generated here unless ``VIDEOPIPE_SCENES_EVAL_DIR`` has it."""
    given = os.environ.get("VIDEOPIPE_SCENES_EVAL_DIR")
    directory = Path(given) if given else tmp_path_factory.mktemp("scenes-eval")
    directory.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        width, height = map(int, size.split("x"))
        for name in NAMES:
            if not (directory / f"{name}-{size}.json").exists():
                generate(name, directory, width, height)
    return directory


def _cell(score: Score) -> str:
    return f"{score.f1:.3f} ({score.precision:.2f} / {score.recall:.2f})"


@pytest.mark.timeout(7200)  # every tool, twice, on about 5,800 frames at each size
def test_scenes_next_to_pyscenedetect(eval_dir: Path, tmp_path: Path) -> None:
    rounds = int(os.environ.get("VIDEOPIPE_BENCH_ROUNDS", "2"))
    lines = [
        "| size | set | tool | F1 exact (P / R) | F1 +-1 frame (P / R) "
        "| frames/s (wall) | frames per CPU-second |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        for name in NAMES:
            video = eval_dir / f"{name}-{size}.mp4"
            truth = load_truth(video)
            for tool, command in commands(video, tmp_path / "out.json").items():
                seconds, cpu = timed(command, rounds)
                found = detections(tmp_path / "out.json")
                exact = match(found, truth.boundaries, 0)[0]
                near = match(found, truth.boundaries, 1)[0]
                accuracy = ("-", "-") if tool.startswith("decode") else (_cell(exact), _cell(near))
                lines.append(
                    f"| {size} | {name} ({truth.frames} frames, {len(truth.boundaries)} "
                    f"boundaries) | {tool} | {accuracy[0]} | {accuracy[1]} "
                    f"| {truth.frames / seconds:.0f} | {truth.frames / cpu:.0f} |"
                )
                print(lines[-1], flush=True)
        cost = pipeline_cost(eval_dir / f"mixed-{size}.mp4")
        lines.append(
            f"| {size} | mixed | scenes DAG in process (CPU ms/frame) | | | | {cost:.3f} ms |"
        )
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print("\n" + table)
    report = os.environ.get("VIDEOPIPE_BENCH_REPORT")
    if report:
        Path(report).write_text(table + "\n")
    assert len(lines) > 2
