"""``videopipe probe``, ``pipelines``, ``plugins`` and ``bench``, run as the installed script."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import pytest

from tests.e2e.helpers import gate_site, videopipe
from videopipe.adapters.decoders import DEFAULT_DECODER
from videopipe.testing.media import make_video


def pyav_facts(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = next(container.decode(video=0))
        rotation = int(first.rotation) % 360
        width, height = stream.width, stream.height
        if rotation in (90, 270):
            width, height = height, width
        return {
            "container": container.format.name,
            "codec": stream.codec_context.name,
            "width": width,
            "height": height,
            "rotation": rotation,
            "fps": float(Fraction(stream.average_rate)),
            "frame_count": stream.frames,
            "duration": None
            if stream.duration is None
            else float(stream.duration * stream.time_base),
        }


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("plain.mp4", {"frames": 12, "width": 96, "height": 64}),
        ("rotated.mp4", {"frames": 9, "width": 96, "height": 64, "rotation": 90}),
        ("slow.mkv", {"frames": 10, "width": 64, "height": 48, "fps": 10}),
    ],
)
def test_probe_json_matches_pyav(tmp_path: Path, name: str, options: dict[str, int]) -> None:
    video = make_video(tmp_path / name, **options)
    done = videopipe("probe", str(video), "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    expected = pyav_facts(video)
    for key in ("container", "codec", "width", "height", "rotation", "fps"):
        assert facts[key] == expected[key], key
    if name.endswith(".mp4"):  # MP4 declares its frame count and duration in its index
        assert facts["frame_count"] == expected["frame_count"] == options["frames"]
        assert facts["duration"] == pytest.approx(expected["duration"], abs=1e-3)
    assert facts["path"] == str(video)


def test_probe_prints_a_table(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=12, width=96, height=64)
    done = videopipe("probe", str(video))
    assert done.returncode == 0, done.stderr
    rows = {
        line.split("  ", 1)[0].strip(): line.split("  ", 1)[1].strip()
        for line in done.stdout.splitlines()
        if line.strip()
    }
    assert rows["width"] == "96"
    assert rows["height"] == "64"
    assert rows["codec"] == "h264"
    assert rows["frame count"] == "12"
    assert rows["fps"] == "25"
    assert rows["duration"] == "0.48"


def test_pipelines_list_shows_the_shipped_and_the_users_pipelines(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "description: Only the scene cuts.\nnodes: {cut: {plugin: scene_change}}\n"
    )
    (tmp_path / "broken.yaml").write_text("nodes: {x: {plugin: no_such_plugin}}\n")
    env = {"VIDEOPIPE_PIPELINE_PATH": str(tmp_path)}
    done = videopipe("pipelines", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in json.loads(done.stdout)}
    assert {"motion", "scenes", "qr_codes", "mine", "broken"} <= set(rows)
    assert rows["mine"]["status"] == "ok"
    assert rows["mine"]["description"] == "Only the scene cuts."
    assert rows["mine"]["file"] == str(tmp_path / "mine.yaml")
    assert "unknown plugin 'no_such_plugin'" in rows["broken"]["status"]
    table = videopipe("pipelines", "list", env=env)
    assert table.returncode == 0
    assert "motion" in table.stdout
    assert "mine" in table.stdout


def test_pipelines_show_gives_nodes_params_and_bindings() -> None:
    done = videopipe("pipelines", "show", "motion", "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["outputs"] == ["motion"]
    (node,) = facts["nodes"]
    assert node["plugin"] == "motion"
    assert node["params"] == {"threshold": 25.0, "min_fraction": 0.001}
    assert node["inputs"] == {"image": "frame.image"}
    text = videopipe("pipelines", "show", "motion")
    assert "threshold = 25.0" in text.stdout
    assert "image <- frame.image" in text.stdout


def test_pipelines_validate_reports_each_broken_file_with_exit_4(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("nodes: {m: {plugin: motion, params: {threshold: 10}}}\n")
    assert videopipe("pipelines", "validate", str(good)).stdout.startswith(f"{good}: ok")
    cycle = tmp_path / "cycle.yaml"
    cycle.write_text(
        "nodes:\n"
        "  a: {plugin: crop_boxes, inputs: {image: b.image, detections: b.image}}\n"
        "  b: {plugin: annotate, inputs: {image: a.crops}}\n"
    )
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("nodes: [unclosed\n")
    done = videopipe("pipelines", "validate", str(good), str(cycle), str(not_yaml))
    assert done.returncode == 4
    errors = done.stderr.splitlines()
    assert len(errors) == 2
    assert "cycle" in errors[0]
    assert "not valid YAML" in errors[1]
    assert done.stdout.startswith(f"{good}: ok")
    missing = videopipe("pipelines", "validate", str(tmp_path / "missing.yaml"))
    assert missing.returncode == 4
    assert "cannot read it" in missing.stderr


def test_plugins_list_shows_each_plugins_parameters_and_third_party_ones(
    tmp_path: Path,
) -> None:
    env = gate_site(tmp_path, tmp_path / "hold", 0)
    done = videopipe("plugins", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    plugins = {plugin["name"]: plugin for plugin in listing["plugins"]}
    assert plugins["motion"]["params"]["threshold"] == {
        "type": "float",
        "required": False,
        "default": 25.0,
        "help": "luma change (0..255) that counts as a moved pixel",
    }
    assert plugins["motion"]["history"] == 1
    assert plugins["qr_decode"]["extras"] == ["qr"]
    assert plugins["gate"]["params"]["hold_file"]["required"] is True
    table = videopipe("plugins", "list", env=env)
    assert "threshold: float = 25.0" in table.stdout
    assert '"videopipe[qr]"' in table.stdout  # printed as text, not read as markup
    assert "gate" in table.stdout


def test_bench_measures_decoders_and_pipelines_on_a_generated_video() -> None:
    done = videopipe("bench", "--frames", "15", "--size", "64x48", "-p", "motion", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["what"]: row for row in json.loads(done.stdout)}
    decode = rows[f"decode ({DEFAULT_DECODER})"]
    assert decode["frames"] == 15
    assert decode["fps"] > 0
    assert rows["pipeline motion (dag runner)"]["frames"] == 15
    assert rows["pipeline motion (dag runner)"]["ratio"] > 0
    unknown = videopipe("bench", "--frames", "15", "-p", "motion", "-p", "nope")
    assert unknown.returncode == 4  # nothing measured: a name to correct first
    assert unknown.stdout == ""
    assert unknown.stderr.startswith("videopipe: error: Pipeline not found: 'nope'.")


def test_bench_on_a_given_video_prints_a_table(tmp_path: Path) -> None:
    video = make_video(tmp_path / "given.mp4", frames=8, width=64, height=48)
    done = videopipe("bench", str(video), "--decoder", "imageio_ffmpeg", "-p", "scenes")
    assert done.returncode == 0, done.stderr
    assert "decode (imageio_ffmpeg)" in done.stdout
    assert "pipeline scenes (dag runner)" in done.stdout
    assert "frames/s" in done.stdout
    bad = videopipe("bench", "--size", "huge")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "videopipe: error: --size must be WIDTHxHEIGHT (each >= 16), got 'huge'"
    ]
