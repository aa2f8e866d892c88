"""Run the hostile-input corpus through videopipe and through the raw libraries.

    python scripts/peer_comparison.py [--folder DIR] [--deadline 20] [--output docs/hardening.md]
                                      [--case NAME ...]

For every case of ``tests/hardening/corpus.py`` it records, each call in a fresh
process under a deadline (a call still running then is killed with everything it
started, and reported as ``HANG (killed after N s)``):

- videopipe with each decoder, through ``tests/hardening/run_case.py``;
- ``imageio_ffmpeg.read_frames(path)``, the generator consumed to the end: frames,
  exception, time, and the ffmpeg processes still running right after (before the
  generator is garbage-collected) and after ``del`` + ``gc.collect()``;
- ``cv2.VideoCapture(path)`` and a ``read()`` loop: frames, time, ``isOpened()``.

It writes a Markdown table (and a short introduction) to ``--output``. The same
script runs each peer call: ``--peer imageio|cv2 --path P [--cwd D]`` prints one
JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- the peer calls (run in their own process) ----------------------------------------


def _children() -> dict[str, int]:
    """The children of this process by state: ``running`` (anything alive) and ``zombie``."""
    counts = {"running": 0, "zombie": 0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = text.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid():
            counts["zombie" if state == "Z" else "running"] += 1
    return counts


def peer_imageio(path: str) -> dict[str, Any]:
    """Consume ``imageio_ffmpeg.read_frames(path)``; count frames and leftovers."""
    import imageio_ffmpeg  # noqa: PLC0415 - only the peer process needs it

    frames, error = 0, None
    started = time.monotonic()
    generator = imageio_ffmpeg.read_frames(path)
    try:
        next(generator)  # the metadata dict
        for _ in generator:
            frames += 1
    except Exception as exc:
        error = exc
    seconds = time.monotonic() - started
    before = _children()
    del generator
    gc.collect()
    after = _children()
    return {
        "frames": frames,
        "error_type": None if error is None else type(error).__name__,
        "message": None if error is None else str(error).splitlines()[0][:200],
        "seconds": seconds,
        "ffmpeg_running": before["running"],
        "ffmpeg_zombies": before["zombie"],
        "ffmpeg_running_after_gc": after["running"],
        "ffmpeg_zombies_after_gc": after["zombie"],
    }


def peer_cv2(path: str) -> dict[str, Any]:
    """``cv2.VideoCapture(path)`` and a ``read()`` loop to the end."""
    import cv2  # noqa: PLC0415 - only the peer process needs it

    frames, error, opened = 0, None, False
    started = time.monotonic()
    try:
        capture = cv2.VideoCapture(path)
        opened = bool(capture.isOpened())
        while True:
            ok, _ = capture.read()
            if not ok:
                break
            frames += 1
        capture.release()
    except Exception as exc:
        error = exc
    return {
        "frames": frames,
        "opened": opened,
        "error_type": None if error is None else type(error).__name__,
        "message": None if error is None else str(error).splitlines()[0][:200],
        "seconds": time.monotonic() - started,
    }


def peer_main(kind: str, path: str, cwd: str | None) -> int:
    """Run one peer call and print its JSON line."""
    if cwd:
        os.chdir(cwd)
    record = peer_imageio(path) if kind == "imageio" else peer_cv2(path)
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return 0


# -- the comparison --------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def videopipe_cell(record: dict[str, Any], meets: bool, size: tuple[int, int] | None = None) -> str:
    """One videopipe run as a table cell."""
    indices = record["indices"]
    count = len(indices)
    if record["error_type"] is None:
        text = f"{plural(count, 'frame')}, {_seconds(record['seconds'])}"
    else:
        if record["frames_expected"] is not None:
            detail = f" ({count} of {record['frames_expected']})"
        elif record.get("has_frames_read"):
            detail = f" (after {count})"
        else:
            detail = ""
        text = f"{record['error_type']}{detail}, {_seconds(record['seconds'])}"
    leaks = []
    if record["leaked_children"]:
        leaks.append(f"{len(record['leaked_children'])} process left")
    if record["leaked_threads"]:
        leaks.append(f"{record['leaked_threads']} thread left")
    if record["leaked_fds"]:
        leaks.append(f"{record['leaked_fds']} fd left")
    if indices != list(range(count)):
        leaks.append("indices " + ", ".join(map(str, indices[:3])) + ", ...")
    wrong_size = size is not None and record["shapes"] != [[size[1], size[0], 3]]
    if len(record["shapes"]) > 1 or (record["shapes"] and wrong_size):
        leaks.append("images " + " ".join(f"{w}x{h}" for h, w, _ in record["shapes"]))
    text = ", ".join([text, *leaks])
    return text if meets else f"✗ {text}"


def plural(count: int, noun: str) -> str:
    """``1 frame``, ``2 frames``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def peer_meets(record: dict[str, Any], built: Any) -> bool:
    """Loose check of a raw library against the case: the right count, or an error."""
    from tests.hardening.corpus import Error, Frames  # noqa: PLC0415

    failed = record["error_type"] is not None or record.get("opened") is False
    if isinstance(built.expect, Frames):
        return not failed and record["frames"] == built.expect.count
    if isinstance(built.expect, Error):
        return failed and record["frames"] == 0
    return failed


def imageio_cell(record: dict[str, Any], meets: bool) -> str:
    """One ``imageio_ffmpeg.read_frames`` call as a table cell."""
    frames, seconds = record["frames"], _seconds(record["seconds"])
    if record["error_type"]:
        text = f"{record['error_type']} after {plural(frames, 'frame')}, {seconds}"
    elif frames == 0:
        text = f"0 frames (silent), {seconds}"
    else:
        text = f"{plural(frames, 'frame')}, {seconds}"
    running, after = record["ffmpeg_running"], record["ffmpeg_running_after_gc"]
    if running:
        text += f", {running} ffmpeg left" + (" (gone after gc)" if not after else "")
    elif after:
        text += f", {after} ffmpeg left after gc"
    if record["ffmpeg_zombies"]:
        text += f", {record['ffmpeg_zombies']} zombie ffmpeg"
    return text if meets else f"✗ {text}"


def cv2_cell(record: dict[str, Any], meets: bool) -> str:
    """One ``cv2.VideoCapture`` read loop as a table cell."""
    frames, seconds = record["frames"], _seconds(record["seconds"])
    if record["error_type"]:
        text = f"{record['error_type']} after {plural(frames, 'frame')}, {seconds}"
    elif not record["opened"]:
        text = f"not opened, {seconds}"
    elif frames == 0:
        text = f"0 frames (silent), {seconds}"
    else:
        text = f"{plural(frames, 'frame')}, {seconds}"
    return text if meets else f"✗ {text}"


def videopipe_call(built: Any, decoder: str, deadline: float) -> str:
    """One run of ``run_case.py`` as a table cell."""
    from tests.hardening.corpus import check_result  # noqa: PLC0415
    from tests.hardening.procs import last_json_line, run_with_deadline  # noqa: PLC0415

    if decoder not in built.case.decoders:
        return "n/a"
    command = built.worker_command(decoder)
    done = run_with_deadline(command, deadline=deadline)
    line = last_json_line(done.stdout)
    if done.timed_out:
        return f"✗ HANG (killed after {deadline:g} s)"
    if line is None:
        return f"✗ worker crashed (exit {done.returncode})"
    record = json.loads(line)
    try:
        check_result(record, built)
    except AssertionError:
        meets = False
    else:
        leaks = record["leaked_children"] or record["leaked_fds"] or record["leaked_threads"]
        meets = not leaks
    return videopipe_cell(record, meets, getattr(built.expect, "size", None))


def peer_call(built: Any, kind: str, deadline: float) -> str:
    """One raw-library call (this script with ``--peer``) as a table cell."""
    from tests.hardening.procs import last_json_line, run_with_deadline  # noqa: PLC0415

    if built.case.options.get("ffmpeg_exe"):
        return "n/a (the stall is a videopipe ffmpeg_exe wrapper)"
    command = [sys.executable, __file__, "--peer", kind, f"--path={built.arg}"]
    if built.cwd is not None:
        command.append(f"--cwd={built.cwd}")
    done = run_with_deadline(command, deadline=deadline, cwd=str(ROOT))
    line = last_json_line(done.stdout)
    if done.timed_out:
        return f"✗ HANG (killed after {deadline:g} s)"
    if line is None:
        return f"✗ crashed (exit {done.returncode})"
    record = json.loads(line)
    render = imageio_cell if kind == "imageio" else cv2_cell
    return render(record, peer_meets(record, built))


def compare(folder: Path, names: list[str] | None, deadline: float) -> list[list[str]]:
    """One table row per case."""
    from tests.hardening.corpus import DECODERS, build_corpus  # noqa: PLC0415

    rows = []
    for name, built in build_corpus(folder, names).items():
        row = [_case_label(name, built), built.reference.describe()]
        row += [videopipe_call(built, decoder, deadline) for decoder in DECODERS]
        row += [peer_call(built, kind, deadline) for kind in ("imageio", "cv2")]
        print(" | ".join(row), flush=True)
        rows.append(row)
    return rows


def _case_label(name: str, built: Any) -> str:
    label = f"`{name}`"
    if built.case.relative:
        label += f" (name {json.dumps(built.arg, ensure_ascii=False)})"
    return f"{label}: expect {built.expect.describe()}"


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def write_report(rows: list[list[str]], output: Path, command: str, seconds: float) -> None:
    """The Markdown page: how it was made, on what, and the table."""
    import av  # noqa: PLC0415
    import cv2  # noqa: PLC0415
    import imageio_ffmpeg  # noqa: PLC0415

    header = [
        "case",
        "reference frames (PyAV)",
        "videopipe imageio_ffmpeg",
        "videopipe opencv",
        "imageio_ffmpeg.read_frames",
        "cv2.VideoCapture",
    ]
    lines = [
        "# Hardening: the hostile-input corpus against videopipe and its peers",
        "",
        f"Produced by `{command}` ({seconds:.0f} s) on a {os.cpu_count()}-core Linux machine "
        f"(Python {platform.python_version()}, ffmpeg {imageio_ffmpeg.get_ffmpeg_version()} "
        f"bundled by imageio-ffmpeg {imageio_ffmpeg.__version__}, OpenCV {cv2.__version__}, "
        f"PyAV {av.__version__}). Each case of `tests/hardening/corpus.py` is built into a "
        "temporary folder, then run in a fresh process per call under a 20 s deadline: "
        "videopipe's service with each decoder (through `tests/hardening/run_case.py`, the "
        "worker `tests/hardening/test_corpus.py` uses), `imageio_ffmpeg.read_frames(path)` "
        "consumed to the end, and a `cv2.VideoCapture(path)` read loop. The reference is "
        "what PyAV decodes from the first video stream that is not an attached picture. "
        "Names that look like protocols are passed as given, from their folder; next to "
        "each lie 20-frame decoys (`a.mp4`, `b.mp4`, `x.mp4`, `x`, `0`) that a name read "
        "as a protocol would open instead of the 12-frame video it holds. Times are wall "
        "time inside the process, from the call to its end or its error.",
        "",
        "Legend: `✗` the result does not meet the case's expectation (for the raw "
        "libraries, which have no typed errors: the right frame count when frames are "
        "expected, an exception or an unopened capture otherwise); `(silent)` no frame "
        "and no error; `N ffmpeg left` ffmpeg processes still running when the generator "
        "returned (`gone after gc`: ended once the generator was deleted); `HANG` the "
        "call was killed at the deadline; `(k of n)` frames streamed and the count the "
        "file's index declares (`frames_expected`); `(after k)` frames streamed before the "
        "error, where the file declares no count.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    lines += ["", *known_bugs()]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")


def known_bugs() -> list[str]:
    """The strict xfails of the corpus, grouped by the bug in ``src/`` they stand for."""
    from tests.hardening.corpus import CASES  # noqa: PLC0415

    by_reason: dict[str, list[str]] = {}
    for case in CASES:
        for decoder, reason in case.xfail.items():
            by_reason.setdefault(reason, []).append(f"`{case.name}` ({decoder})")
    lines = [
        "## Known bugs (strict xfails in `tests/hardening/test_corpus.py`)",
        "",
    ]
    if not by_reason:
        lines.append("None: every videopipe cell meets its case's expectation.")
        return lines
    lines += [
        "The `✗` cells of the videopipe columns are these; each stays a strict xfail until "
        "it is fixed in `src/`.",
        "",
    ]
    for reason, cases in by_reason.items():
        lines.append(f"- {reason.removeprefix('src bug: ')}. Cases: {', '.join(cases)}.")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the command line: a peer call, or the whole comparison."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--peer", choices=["imageio", "cv2"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--cwd", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help="build the corpus here (default: a temp dir)")
    parser.add_argument("--deadline", type=float, default=20.0, help="seconds per call")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "hardening.md")
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    args = parser.parse_args(argv)
    if args.peer:
        return peer_main(args.peer, args.path, args.cwd)

    sys.path.insert(0, str(ROOT))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="videopipe-hardening-") as temporary:
        folder = args.folder or Path(temporary)
        rows = compare(folder, args.case, args.deadline)
        _restore_permissions(folder)
    command = "python scripts/peer_comparison.py" + "".join(
        f" --case {name}" for name in args.case or []
    )
    write_report(rows, args.output, command, time.monotonic() - started)
    return 0


def _restore_permissions(folder: Path) -> None:
    """Give the chmod-000 case back its bits so the folder can be removed."""
    for path in folder.rglob("*"):
        if not path.is_symlink() and path.is_file():
            path.chmod(0o644)


if __name__ == "__main__":
    sys.exit(main())
