"""Real-footage conformance: files nobody here made, quirk files, and their ffmpeg reference.

The samples are every video Debian's ``opencv-doc`` ships (CI installs the package):
the four AVIs of ``examples/data`` and the two gzipped MP4s of the HTML docs. The quirk
files are made once per session (:mod:`tests.conformance.quirks`); each file's ffmpeg
CLI decode (:mod:`tests.conformance.reference`) is made once per session too.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conformance.quirks import QUIRKS
from tests.conformance.reference import Reference, decode_with_cli

OPENCV_DOC = Path("/usr/share/doc/opencv-doc")
SAMPLE_AVIS = ("Megamind.avi", "Megamind_bugy.avi", "tree.avi", "vtest.avi")
SAMPLE_GZIPPED = ("cup.mp4", "box.mp4")
SAMPLES = tuple(Path(name).stem for name in (*SAMPLE_AVIS, *SAMPLE_GZIPPED))
"""Every opencv-doc sample video, by stem."""

FILES = (*SAMPLES, *QUIRKS)
"""Every file of the suite: the samples, then one per quirk class."""

_LOCK = threading.Lock()


def _sample(name: str, folder: Path) -> Path:
    for avi in SAMPLE_AVIS:
        if Path(avi).stem == name:
            path = OPENCV_DOC / "examples" / "data" / avi
            assert path.is_file(), f"{path} is missing: apt-get install opencv-doc"
            return path
    packed = OPENCV_DOC / "opencv4" / "html" / f"{name}.mp4.gz"
    assert packed.is_file(), f"{packed} is missing: apt-get install opencv-doc"
    target = folder / f"{name}.mp4"
    target.write_bytes(gzip.decompress(packed.read_bytes()))
    return target


@pytest.fixture(scope="session")
def conformance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder for quirk files and reference decodes."""
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def conformance_file(conformance_dir: Path) -> Callable[[str], Path]:
    """``conformance_file(name)``: the sample or quirk file of that name (made once)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        with _LOCK:
            if name not in made:
                if name in QUIRKS:
                    file_name, maker = QUIRKS[name]
                    made[name] = maker(conformance_dir / file_name)
                else:
                    made[name] = _sample(name, conformance_dir)
            return made[name]

    return get


@pytest.fixture(scope="session")
def reference(
    conformance_file: Callable[[str], Path], conformance_dir: Path
) -> Callable[[str], Reference]:
    """``reference(name)``: the ffmpeg CLI's decode of that file (made once)."""
    decoded: dict[str, Reference] = {}

    def get(name: str) -> Reference:
        path = conformance_file(name)
        with _LOCK:
            if name not in decoded:
                decoded[name] = decode_with_cli(path, conformance_dir)
            return decoded[name]

    return get
