"""Helpers of the batch tests: a plugin that naps (and fails on demand), media folders."""

from __future__ import annotations

import shutil
from pathlib import Path

from videopipe.testing.media import make_video
from videopipe.testing.media.corrupt import CORRUPT_KINDS, write_corrupt_file

NAP_PLUGIN = '''
import time

from videopipe.ports.plugins import Param, Plugin


class Nap(Plugin):
    """Sleeps ``seconds`` per frame; fails on frames whose index is a multiple of ``fail_every``."""

    name = "nap"
    inputs = {"frame_index": "the frame's index"}
    outputs = {"frame": "the frame's index"}
    params = {
        "seconds": Param(float, 0.0, help="sleep per frame"),
        "fail_every": Param(int, 0, help="fail frames 0, n, 2n, ... (0: never)"),
    }

    def process(self, inputs, context, history=()):
        index = int(inputs["frame_index"])
        time.sleep(self.config["seconds"])
        every = self.config["fail_every"]
        if every and index % every == 0:
            raise ValueError(f"nap refuses frame {index}")
        return {"frame": index}
'''


def nap_site(tmp_path: Path, seconds: float = 0.0, fail_every: int = 0) -> dict[str, str]:
    """Environment giving a run pipeline ``napping``: ``motion``, then ``nap``."""
    site = tmp_path / "site"
    (site / "nap_plugin").mkdir(parents=True, exist_ok=True)
    (site / "nap_plugin" / "__init__.py").write_text(NAP_PLUGIN)
    info = site / "nap_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nap-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[videopipe.plugins]\nnap = nap_plugin:Nap\n")
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir(exist_ok=True)
    (pipelines / "napping.yaml").write_text(
        "nodes:\n"
        "  motion: {plugin: motion}\n"
        f"  nap: {{plugin: nap, params: {{seconds: {seconds}, fail_every: {fail_every}}}}}\n"
        "outputs: [motion, nap]\n"
    )
    return {
        "PYTHONPATH": str(site),
        "VIDEOPIPE_PIPELINE_PATH": str(pipelines),
        "VIDEOPIPE_ENV": "dev",
    }


def video_folder(
    folder: Path, good: int, corrupt: int = 0, *, frames: int = 6, prototype: Path | None = None
) -> tuple[list[Path], list[Path]]:
    """``good`` small videos (copies of one, in subfolders) and ``corrupt`` broken ones.

    The corrupt files go round :data:`CORRUPT_KINDS` (``truncated`` cuts a real video).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if prototype is None:
        prototype = make_video(
            folder.parent / f"{folder.name}-prototype.mp4",
            frames=frames,
            width=64,
            height=48,
            content="moving_square",
        )
    goods = []
    for number in range(good):
        target = folder / f"part{number % 3}" / f"clip{number:03d}.mp4"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(prototype, target)
        goods.append(target)
    bads = []
    for number in range(corrupt):
        kind = CORRUPT_KINDS[number % len(CORRUPT_KINDS)]
        options = {"frames": 12, "width": 64, "height": 48} if kind == "truncated" else {}
        bads.append(write_corrupt_file(kind, folder / f"broken{number:02d}.mp4", **options))
    return goods, bads
