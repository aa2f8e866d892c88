"""The ffmpeg binary imageio-ffmpeg bundles: where it is, its header probe, its packet check."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import subprocess
import sys

from videopipe.adapters.ffmpeg import log
from videopipe.adapters.ffmpeg.checks import check_not_text, no_video_stream
from videopipe.adapters.ffmpeg.files import ffmpeg_input
from videopipe.adapters.ffmpeg.packets import survey_packets
from videopipe.domain.errors import DecoderTimeoutError, VideoReadError
from videopipe.domain.model import FrameSelection, VideoInfo

LOG_ARGUMENTS = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info")
"""The arguments that make ffmpeg's log what :mod:`.log` parses."""


@functools.cache
def bundled_ffmpeg() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg (or ``IMAGEIO_FFMPEG_EXE``)."""
    import imageio_ffmpeg  # noqa: PLC0415 - imported when the binary is first needed

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session and everything it started."""
    if process.returncode is not None:
        return  # already reaped: its pid may belong to someone else by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def grow_pipe(fd: int, size: int = 1 << 20) -> None:
    """Let a whole frame sit in the pipe ``fd`` reads (Linux): fewer wake-ups per frame."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)


def _run_on_file(
    ffmpeg_exe: str, path: str, abspath: str, output: list[str], timeout: float
) -> str:
    """Run ffmpeg on the file with ``output`` arguments; return its log (stderr).

    On ``timeout`` the process and anything it started are killed and
    :class:`DecoderTimeoutError` is raised.
    """
    with ffmpeg_input(path, abspath) as (source, inherited):
        command = [ffmpeg_exe, *LOG_ARGUMENTS, "-i", source, *output]
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=inherited,
            start_new_session=True,
        ) as process:
            try:
                _, errors = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                kill_group(process)
                process.communicate()
                raise DecoderTimeoutError(path, timeout, 0) from exc
            finally:
                kill_group(process)
    return errors.decode("utf-8", "replace")


def demux_problems(ffmpeg_exe: str, path: str, abspath: str, timeout: float, decoded: int) -> str:
    """Evidence of damage from reading every video packet of the file (nothing decoded).

    Catches truncation and damage in containers that declare no frame count (a
    Matroska file cut short, a broken element) for decoders that report none. Which
    messages are evidence is :func:`.log.damage`'s rule: the demuxer's own errors
    always, a parser's only when frames are missing (``decoded`` fewer than the
    packets store, or packets flagged damaged).
    """
    text = _run_on_file(
        ffmpeg_exe, path, abspath, ["-map", "0:V:0", "-c", "copy", "-f", "null", "-"], timeout
    )
    lines = text.splitlines()
    if not log.problem_lines(lines):
        return ""
    survey = survey_packets(abspath, timeout)
    missing = survey is None or decoded < survey.stored or survey.damaged > 0
    return log.damage(lines, log.parse_header(path, lines).container, frames_missing=missing)


def probe(ffmpeg_exe: str, path: str, abspath: str, timeout: float) -> VideoInfo:
    """What ffmpeg says of the file's first video stream (no frame is decoded).

    Raises :class:`VideoReadError` when ffmpeg cannot open the file or it holds no
    video stream, and :class:`DecoderTimeoutError` after ``timeout`` seconds (the
    probe and anything it started are killed).
    """
    text = _run_on_file(ffmpeg_exe, path, abspath, [], timeout)
    lines = text.splitlines()
    facts = log.parse_header(path, lines)
    if facts.container is None:
        problem = log.problem_lines(
            [line for line in lines if "output file must be specified" not in line]
        )
        raise VideoReadError(path, problem or "ffmpeg does not recognise it as a video")
    check_not_text(path, facts.container)
    if facts.video is None:
        if facts.unreadable_video:
            problem = log.problem_lines(lines)
            raise VideoReadError(
                path, f"its video stream cannot be decoded ({problem or facts.unreadable_video})"
            )
        kinds = [kind.lower() for kind in ("Audio", "Subtitle", "Data") if f": {kind}:" in text]
        raise no_video_stream(path, kinds)
    return facts.video


SCALED_FORMATS = "format=yuv420p|yuvj420p|yuv422p|yuvj422p|yuv444p|yuvj444p"
"""Where the ``scale`` filter scales: planar 8-bit YUV, the stream's own format when it is
one of these (then ffmpeg converts to rgb24 unscaled at the output, as the pyav decoder)."""


def rgb24_command(
    exe: str,
    input_argument: str,
    selection: FrameSelection,
    output_size: tuple[int, int] | None = None,
    interpolation: str = "bilinear",
    *,
    pixel_format: str = "rgb24",
) -> list[str]:
    """The ffmpeg command that pipes the selected frames as rgb24, each timed by showinfo.

    ``pixel_format`` ``gray`` pipes FFmpeg's full-range luma instead (one byte a pixel).

    Unselected frames are dropped inside ffmpeg (never converted nor piped). With
    ``output_size`` the frames are scaled in planar YUV with ``interpolation`` and then
    converted to rgb24 unscaled, as the pyav decoder does (docs/decoders.md says why).
    No ``-copyts``: the CLI's own timestamps (a clock that jumps is made continuous).
    """
    filters = ["showinfo=checksum=0"]
    if selection.start or selection.step > 1:
        start, step = selection.start, selection.step
        filters.append(f"select='gte(n\\,{start})*not(mod(n-{start}\\,{step}))'")
    if output_size is not None:
        width, height = output_size
        filters += [f"scale={width}:{height}:flags={interpolation}", SCALED_FORMATS]
    command = [exe, *LOG_ARGUMENTS, "-i", input_argument]
    command += ["-map", "0:V:0", "-an", "-sn", "-dn"]
    command += ["-vf", ",".join(filters), "-fps_mode", "passthrough"]
    if selection.count is not None:
        command += ["-frames:v", str(selection.count)]
    command += ["-f", "rawvideo", "-pix_fmt", pixel_format, "pipe:1"]
    return command
