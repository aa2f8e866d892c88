"""A batch's manifest notices an edited pipeline: refused unless ``--force``, then redone.

The options hash holds the digest of the pipeline's definition (what the DAG runner
runs), so an edited node or parameter is other options; a file touched or re-laid out
without a change of definition is not.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from tests.batch.helpers import video_folder
from tests.e2e.helpers import videopipe
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.manifest.sqlite import SqliteManifest
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.mock import MockDagPipelineService
from videopipe.application.jobs import ManifestOptionsError, plan_batch
from videopipe.application.options import options_hash
from videopipe.application.settings import RunSettings
from videopipe.container import create_container
from videopipe.domain.model import FrameSelection

ONE_NODE = "nodes:\n  motion: {plugin: motion, params: {threshold: 25.0}}\n"
TWO_NODES = ONE_NODE + "  still: {plugin: motion, params: {threshold: 250.0}}\n"
ONE_NODE_RELAID = (
    "# the same pipeline, written otherwise\n"
    "nodes:\n"
    "  motion:\n"
    "    params:\n"
    "      threshold: 25.0\n"
    "    plugin: motion\n"
)


def manifest_rows(out: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(out / "manifest.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {row["path"]: dict(row) for row in db.execute("SELECT * FROM videos")}


def result_keys(output: object) -> set[str]:
    lines = Path(str(output)).read_text().splitlines()
    return {key for line in lines for key in json.loads(line)["result"]}


def touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


@pytest.mark.parametrize("naming", ["file", "pipeline-path"])
def test_the_cli_refuses_a_manifest_whose_pipeline_was_edited_unless_force(
    tmp_path: Path, naming: str
) -> None:
    video_folder(tmp_path / "videos", good=2)
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    pipeline = pipelines / "edited.yaml"
    pipeline.write_text(ONE_NODE)
    if naming == "file":
        chosen = ["--pipeline", str(pipeline)]
    else:
        chosen = ["--pipeline", "edited", "--pipeline-path", str(pipelines)]
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "videos"), *chosen, "--env", "dev", "--output-dir", str(out)]
    first = videopipe(*args)
    assert first.returncode == 0, first.stderr
    before = manifest_rows(out)
    assert all(result_keys(row["output"]) == {"motion"} for row in before.values())

    touch_later(pipeline)  # same bytes, a new mtime: still the same pipeline
    again = videopipe(*args)
    assert again.returncode == 0, again.stderr
    assert manifest_rows(out) == before

    pipeline.write_text(ONE_NODE_RELAID)  # other bytes, the same definition
    again = videopipe(*args)
    assert again.returncode == 0, again.stderr
    assert manifest_rows(out) == before

    pipeline.write_text(TWO_NODES)
    refused = videopipe(*args)
    assert refused.returncode == 2, refused.stderr
    assert "other options" in refused.stderr
    assert "pipeline's definition changed" in refused.stderr
    assert "--force" in refused.stderr
    assert manifest_rows(out) == before

    forced = videopipe(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    after = manifest_rows(out)
    assert set(after) == set(before)
    for path, row in after.items():
        assert row["status"] == "done"
        assert row["started"] != before[path]["started"]
        assert result_keys(row["output"]) == {"motion", "still"}


def test_run_batch_refuses_an_edited_pipeline_and_redoes_it_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=2)
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    pipeline = pipelines / "edited.yaml"
    pipeline.write_text(ONE_NODE)
    monkeypatch.setenv("VIDEOPIPE_PIPELINE_PATH", str(pipelines))
    out = tmp_path / "out"

    def service():  # type: ignore[no-untyped-def]
        return create_container("dev").video_service()

    first = list(service().run_batch("edited", goods, output_dir=out))
    assert [report.ok for report in first] == [True, True]
    touch_later(pipeline)
    assert list(service().run_batch("edited", goods, output_dir=out)) == []  # all done

    pipeline.write_text(ONE_NODE.replace("25.0", "40.0"))  # a parameter edited
    with pytest.raises(ManifestOptionsError, match=r"pipeline's definition changed.*--force"):
        list(service().run_batch("edited", goods, output_dir=out))
    pipeline.write_text(TWO_NODES)
    with pytest.raises(ManifestOptionsError, match="other options"):
        list(service().run_batch("edited", goods, output_dir=out))
    redone = list(service().run_batch("edited", goods, output_dir=out, force=True))
    assert sorted(report.video for report in redone) == sorted(map(str, goods))
    for row in manifest_rows(out).values():
        assert result_keys(row["output"]) == {"motion", "still"}
    assert list(service().run_batch("edited", goods, output_dir=out)) == []


def test_the_digest_follows_the_definition_not_the_file(tmp_path: Path) -> None:
    library = PipelineLibrary([tmp_path])
    runner = DagPipelineRunner(library)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(ONE_NODE)
    first = runner.pipeline_digest("p")
    pipeline.write_text(ONE_NODE_RELAID)
    touch_later(pipeline)
    assert runner.pipeline_digest("p") == first
    for edited in (ONE_NODE.replace("25.0", "26.0"), TWO_NODES, ONE_NODE + "on_error: skip\n"):
        pipeline.write_text(edited)
        touch_later(pipeline)
        assert runner.pipeline_digest("p") != first, edited


def test_a_runner_that_cannot_describe_its_pipelines_keeps_the_old_hash() -> None:
    settings = RunSettings(runner=MockDagPipelineService(), frame_source=create_frame_source())
    digest = options_hash(settings, "p", FrameSelection())
    assert len(digest) == 16
    int(digest, 16)  # one hex digest, no pipeline part


@pytest.mark.parametrize(
    ("stored", "now", "said"),
    [
        ("a" * 16 + ".1", "a" * 16 + ".2", "the pipeline's definition changed"),
        ("a" * 16, "a" * 16 + ".2", "it has no pipeline definition"),
        ("a" * 16 + ".1", "a" * 16, "does not describe the pipeline's definition"),
        ("a" * 16 + ".1", "b" * 16 + ".1", "other options (" + "a" * 16),
    ],
)
def test_the_refusal_says_what_changed(tmp_path: Path, stored: str, now: str, said: str) -> None:
    (video,) = video_folder(tmp_path / "videos", good=1)[0]
    manifest = SqliteManifest(tmp_path / "manifest.sqlite")
    try:
        plan_batch(manifest, [(str(video), "")], stored)
        with pytest.raises(ManifestOptionsError, match=re.escape(said)):
            plan_batch(manifest, [(str(video), "")], now)
        assert manifest.options_hash() == stored
    finally:
        manifest.close()
