"""Which files a batch takes (``find_videos``) and the names of their outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from videopipe.application.inputs import NoVideosError, distinct, find_videos, output_name
from videopipe.domain.errors import VideoFileNotFoundError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_directory_gives_its_videos_recursively_sorted_any_case(tmp_path: Path) -> None:
    b = touch(tmp_path / "d" / "b.MP4")
    a = touch(tmp_path / "d" / "sub" / "a.mkv")
    touch(tmp_path / "d" / "readme.txt")
    assert find_videos([tmp_path / "d"]) == [str(b), str(a)]


def test_a_file_is_taken_whatever_its_extension(tmp_path: Path) -> None:
    odd = touch(tmp_path / "capture.bin")
    assert find_videos([odd]) == [str(odd)]


def test_globs_expand_and_a_repeated_file_comes_again(tmp_path: Path) -> None:
    a = touch(tmp_path / "x" / "a.mp4")
    b = touch(tmp_path / "y" / "z" / "b.ts")
    found = find_videos([str(tmp_path / "**" / "*.mp4"), str(tmp_path / "*" / "*" / "*.ts"), a])
    assert found == [str(a), str(b), str(a)]
    assert distinct([*found, os.path.relpath(b)]) == [str(a), str(b)]  # a batch runs each once


def test_a_directory_or_glob_without_videos_is_a_usage_error(tmp_path: Path) -> None:
    touch(tmp_path / "d" / "notes.txt")
    with pytest.raises(NoVideosError, match="no video files under directory"):
        find_videos([tmp_path / "d"])
    with pytest.raises(NoVideosError, match="no video files match"):
        find_videos([str(tmp_path / "*.mov")])


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(VideoFileNotFoundError):
        find_videos([tmp_path / "missing.mp4"])


def test_output_names_keep_the_file_name_and_never_collide(tmp_path: Path) -> None:
    names = {output_name(str(tmp_path / folder / "same.mp4"), ".jsonl") for folder in "abc"}
    assert len(names) == 3
    assert all(name.startswith("same.mp4.") and name.endswith(".jsonl") for name in names)
    assert output_name("same.mp4", ".jsonl") == output_name(str(Path.cwd() / "same.mp4"), ".jsonl")
