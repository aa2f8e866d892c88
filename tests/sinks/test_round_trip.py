"""Every sink format writes and reads back the same frames and the same rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars  # in the dev extra, so the tests of to_polars run wherever the tests do
import pyarrow.parquet as pq
import pytest

from tests.sinks.cases import CASES
from videopipe import results
from videopipe.adapters.sinks import encode_line, open_sink
from videopipe.domain.errors import MissingDependencyError, ResultsFileError
from videopipe.ports.sinks import ResultSink

EXTENSIONS = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}


def write(path: Path, frames, *, rows_per_part: int = 3) -> None:
    sink = open_sink(str(path), rows_per_part=rows_per_part)
    assert isinstance(sink, ResultSink)
    for video, item in frames:
        sink.write(video, item)
    sink.close()
    sink.close()  # idempotent


def lines(frames) -> list[bytes]:
    """The JSON lines of a frame stream: the exact form every format must give back."""
    return [encode_line(video, item) for video, item in frames]


def comparable(row: dict) -> dict:
    return {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", sorted(EXTENSIONS))
def test_read_frames_gives_back_exactly_what_was_written(tmp_path: Path, case: str, kind: str):
    frames = CASES[case]
    path = tmp_path / f"out{EXTENSIONS[kind]}"
    write(path, frames)
    assert lines(results.read_frames(str(path))) == lines(frames)
    assert not (tmp_path / f"out{EXTENSIONS[kind]}.parts").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_format_reads_back_the_same_rows(tmp_path: Path, case: str):
    frames = CASES[case]
    rows = {}
    for kind, extension in EXTENSIONS.items():
        path = tmp_path / f"out{extension}"
        write(path, frames, rows_per_part=2)
        rows[kind] = [comparable(row) for row in results.read(str(path))]
    assert rows["csv"] == rows["jsonl"]
    assert rows["parquet"] == rows["jsonl"]
    assert len(rows["jsonl"]) >= len(frames)


def test_a_qr_frame_is_one_frame_row_and_one_item_row_per_code(tmp_path: Path):
    path = tmp_path / "codes.parquet"
    write(path, CASES["two_codes_then_none"])
    rows = list(results.read(str(path)))
    assert [(r["frame_index"], r["kind"], r["node"], r["output"], r["item"]) for r in rows] == [
        (0, "frame", "codes", None, None),
        (0, "item", "codes", "codes", 0),
        (0, "item", "codes", "codes", 1),
        (1, "frame", "codes", None, None),
    ]
    assert [r["text"] for r in rows] == [None, "a", "b", None]
    assert (rows[2]["x1"], rows[2]["y1"], rows[2]["x2"], rows[2]["y2"]) == (5.0, 6.0, 7.0, 8.0)
    assert json.loads(rows[0]["value"]) == {"codes": []}


def test_frame_level_values_and_errors_are_rows_with_their_columns(tmp_path: Path):
    path = tmp_path / "out.csv"
    write(path, CASES["motion"] + CASES["scenes"] + CASES["errors_from_skip"])
    rows = list(results.read(str(path)))
    motion = [r for r in rows if r["node"] == "motion"]
    assert [(r["kind"], r["score"], r["x2"]) for r in motion] == [
        ("frame", 0.0, None),
        ("frame", 0.0333, 32.0),
    ]
    assert [r["label"] for r in rows if r["node"] == "scene"] == [None, "cut"]
    errors = [r for r in rows if r["kind"] == "error"]
    assert [(r["video"], r["frame_index"]) for r in errors] == [("e.mp4", 1)]
    assert json.loads(errors[0]["value"])["type"] == "PluginError"


def test_markers_have_their_id_and_detections_their_label_and_score(tmp_path: Path):
    path = tmp_path / "out.parquet"
    write(path, CASES["markers_and_detections"])
    items = [r for r in results.read(str(path)) if r["kind"] == "item"]
    assert [(r["node"], r["id"], r["label"], r["score"]) for r in items] == [
        ("markers", 7, None, None),
        ("objects", None, "person", 0.91),
        ("objects", None, "car", 0.4),
    ]


def test_parquet_declares_the_schema_in_its_metadata(tmp_path: Path):
    path = tmp_path / "out.parquet"
    write(path, CASES["qr_codes"], rows_per_part=4)
    parquet = pq.ParquetFile(path)
    metadata = parquet.schema_arrow.metadata
    assert metadata[b"videopipe.schema"] == b"videopipe.results"
    assert metadata[b"videopipe.schema_version"] == b"1"
    assert parquet.schema_arrow.names == list(results.COLUMN_NAMES)
    # 10 rows in row groups of exactly rows_per_part, whatever the parts were
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [
        4,
        4,
        2,
    ]


def test_csv_has_a_csvw_sidecar_naming_the_schema(tmp_path: Path):
    path = tmp_path / "out.csv"
    write(path, CASES["qr_codes"])
    sidecar = json.loads((tmp_path / "out.csv-metadata.json").read_text())
    assert sidecar["dc:conformsTo"] == "urn:videopipe:results:1"
    assert [c["name"] for c in sidecar["tableSchema"]["columns"]] == list(results.COLUMN_NAMES)
    assert path.read_text().splitlines()[0] == ",".join(results.COLUMN_NAMES)


def test_another_schema_version_is_refused(tmp_path: Path):
    path = tmp_path / "out.csv"
    write(path, CASES["qr_codes"])
    sidecar = tmp_path / "out.csv-metadata.json"
    sidecar.write_text(sidecar.read_text().replace("results:1", "results:2"))
    with pytest.raises(ResultsFileError, match="urn:videopipe:results:2"):
        list(results.read(str(path)))


def test_a_file_without_frames_is_a_valid_empty_file(tmp_path: Path):
    for extension in EXTENSIONS.values():
        path = tmp_path / f"empty{extension}"
        write(path, [])
        assert list(results.read(str(path))) == []
        assert list(results.read_frames(str(path))) == []


def test_format_from_the_extension_or_given(tmp_path: Path):
    path = tmp_path / "results.pq"
    write(path, CASES["motion"])
    assert pq.ParquetFile(path).num_row_groups == 1
    other = tmp_path / "results.txt"
    sink = open_sink(str(other), "csv")
    sink.write(*CASES["motion"][0])
    sink.close()
    assert other.read_text().startswith("video,frame_index")
    assert lines(results.read_frames(str(other), format="csv")) == lines(CASES["motion"][:1])


def test_to_pandas_gives_the_typed_rows(tmp_path: Path):
    path = tmp_path / "out.jsonl"
    write(path, CASES["markers_and_detections"])
    frame = results.to_pandas(str(path))
    assert list(frame.columns) == list(results.COLUMN_NAMES)
    assert frame["label"].tolist()[-2:] == ["person", "car"]
    assert str(frame["frame_index"].dtype) == "int64"


def test_to_polars_without_polars_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(__import__("sys").modules, "polars", None)
    path = tmp_path / "out.jsonl"
    write(path, CASES["motion"])
    with pytest.raises(MissingDependencyError, match=r"videopipe\[polars\]"):
        results.to_polars(str(path))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", sorted(EXTENSIONS))
def test_to_polars_gives_the_rows_of_read(tmp_path: Path, case: str, kind: str):
    path = tmp_path / f"out{EXTENSIONS[kind]}"
    write(path, CASES[case])
    frame = results.to_polars(str(path))
    assert isinstance(frame, polars.DataFrame)
    assert frame.columns == list(results.COLUMN_NAMES)
    assert str(frame.schema["frame_index"]) == "Int64"
    assert str(frame.schema["score"]) == "Float64"
    read = [comparable(row) for row in results.read(str(path))]
    assert [comparable(row) for row in frame.iter_rows(named=True)] == read


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_tabular_sink_counts_the_rows_it_was_given(tmp_path: Path, kind: str):
    path = tmp_path / f"out{EXTENSIONS[kind]}"
    frames = CASES["two_codes_then_none"] + CASES["markers_and_detections"]
    sink = open_sink(str(path), rows_per_part=2)
    for video, item in frames:
        sink.write(video, item)
    sink.close()
    assert sink.rows == len(list(results.read(str(path)))) > len(frames)
