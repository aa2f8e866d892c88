"""Reading back a results file that is cut short, not text, or a directory: a typed error."""

from __future__ import annotations

from pathlib import Path

import pytest

from videopipe import results
from videopipe.domain.errors import ResultsFileError
from videopipe.domain.model import FrameResult


def _csv(path: Path) -> Path:
    sink = results.open_sink(str(path))
    for index in range(20):
        codes = {"codes": [{"text": f'a, "quoted"\ntext {index}', "box": [1, 2, 3, 4]}]}
        sink.write("clip.mp4", FrameResult(index, index / 25, {"qr": codes}))
    sink.close()
    return path


@pytest.mark.parametrize("reader", [results.read, results.read_frames, results.to_arrow])
def test_a_csv_cut_inside_a_quoted_cell_is_a_results_file_error(
    tmp_path: Path, reader: object
) -> None:
    whole = _csv(tmp_path / "whole.csv").read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(whole[: whole.index(b"text 7")])  # inside a quoted, multi-line cell
    (tmp_path / "cut.csv-metadata.json").write_bytes(
        (tmp_path / "whole.csv-metadata.json").read_bytes()
    )
    with pytest.raises(ResultsFileError, match=r"cut\.csv"):
        list(reader(str(cut)))  # type: ignore[operator]


def test_a_csv_that_is_not_utf8_is_a_results_file_error(tmp_path: Path) -> None:
    whole = _csv(tmp_path / "whole.csv").read_bytes()
    bad = tmp_path / "whole.csv"
    bad.write_bytes(whole + b"\xff\xfe,\xff\n")
    with pytest.raises(ResultsFileError):
        list(results.read(str(bad)))


@pytest.mark.parametrize("name", ["out", "out.parquet", "out.csv", "out.jsonl"])
def test_a_directory_is_a_results_file_error_that_says_so(tmp_path: Path, name: str) -> None:
    (tmp_path / name).mkdir()
    for reader in (results.read, results.read_frames, results.to_arrow):
        with pytest.raises(ResultsFileError, match="is a directory"):
            list(reader(str(tmp_path / name)))  # type: ignore[operator]


def test_every_error_of_the_hierarchy_is_exported_by_videopipe() -> None:
    """docs/errors.md: they 'are defined in videopipe.domain.errors and exported by videopipe'."""
    import inspect  # noqa: PLC0415

    import videopipe  # noqa: PLC0415
    from videopipe.domain import errors  # noqa: PLC0415

    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.VideoPipeError)
    }
    assert defined - set(videopipe.__all__) == set()
    assert results.ResultsFileError is errors.ResultsFileError
