"""An unreadable file (permissions) is a typed error, whoever runs the tests.

The corpus runs as root here, where permission bits do not stop reads; this test makes
the operating system's answer for a file without read permission (EACCES) happen.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.ffmpeg import files as _paths
from videopipe.domain.errors import VideoReadError
from videopipe.testing.media import make_video


@pytest.mark.parametrize("decoder", ["imageio_ffmpeg", "opencv", "pyav"])
def test_a_file_without_read_permission_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decoder: str
) -> None:
    video = make_video(tmp_path / "locked.mp4", frames=2, width=64, height=48)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(_paths, "open", refuse, raising=False)
    with pytest.raises(VideoReadError, match="Permission denied") as caught:
        create_frame_source(decoder).open(str(video))
    assert str(caught.value).startswith(f"Unable to read video file {str(video)!r}")
