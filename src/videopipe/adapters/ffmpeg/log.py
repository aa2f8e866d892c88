"""Reading what the ffmpeg command line prints on stderr (run with ``-loglevel level+info``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from videopipe.domain.model import VideoInfo

_INPUT = re.compile(r"Input #0, (?P<format>[^ ]+), from ")
_DURATION = re.compile(
    r"Duration: (?:(?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)|N/A)(?:, start: (?P<start>-?[\d.]+))?"
)
_VIDEO_STREAM = re.compile(r"Stream #0:(?P<index>\d+)[^:]*: Video: (?P<codec>[^ ,]+)(?P<rest>.*)")
_SIZE = re.compile(r", (?P<w>\d{1,6})x(?P<h>\d{1,6})[ ,\n]|, (?P<w2>\d{1,6})x(?P<h2>\d{1,6})$")
_FPS = re.compile(r", (?P<fps>[\d.]+)(?P<k>k?) (?:fps|tbr)")
_ROTATION = re.compile(r"[Dd]isplay ?[Mm]atrix: rotation of (?P<deg>-?[\d.]+) degrees")
_ATTACHED_PIC = "(attached pic)"
_FIELD_ORDER = re.compile(r"\b(?:top|bottom)(?: coded)? first\b")

SHOWINFO_FRAME_BYTES = re.compile(rb"\bn:\s*(\d+) pts:\s*(-?\d+|NOPTS)\b")
SHOWINFO_FRAME_END = re.compile(rb" type:\S ?")
"""Where showinfo's per-frame text ends (``checksum=0``): its newline follows alone."""
_SHOWINFO_COLORS = re.compile(rb"\] color_range:\S+( color_(?:space|primaries|trc):\S+)*\s*$")
SHOWINFO_TIME_BASE = re.compile(r"config in time_base: (?P<num>\d+)/(?P<den>\d+)")
# The first ", WxH" after the codec: the pixel format's parenthesised details may nest
# ("rgb24(pc, gbr/unknown/unknown, bottom coded first (swapped))" for interlaced video);
# rgb24 is "RGB[24]", gray "Y800".
OUTPUT_SIZE = re.compile(r"Video: rawvideo \((?:RGB\[24\]|Y800) .*?, (\d{1,6})x(\d{1,6})\b")
LEVEL = re.compile(r"\[(?P<level>panic|fatal|error|warning|info|verbose|debug|trace)\] ")


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What ffmpeg printed about input #0."""

    container: str | None
    duration: float | None
    video: VideoInfo | None
    unreadable_video: str | None = None
    """A video stream line ffmpeg printed without a size (it could not read its header)."""


def level_of(line: str) -> str | None:
    """The log level ffmpeg tagged ``line`` with (``-loglevel level+...``)."""
    match = LEVEL.search(line)
    return match.group("level") if match else None


def parse_header(path: str, lines: list[str]) -> HeaderFacts:
    """Parse the ``Input #0`` block: container, duration, first video stream."""
    container = None
    duration = None
    video: VideoInfo | None = None
    unreadable: str | None = None
    for position, line in enumerate(lines):
        if container is None and (match := _INPUT.search(line)):
            container = match.group("format")
        elif duration is None and (match := _DURATION.search(line)) and match.group("h"):
            duration = (
                int(match.group("h")) * 3600 + int(match.group("m")) * 60 + float(match.group("s"))
            )
        elif video is None and (match := _VIDEO_STREAM.search(line)):
            rest = match.group("rest")
            if _ATTACHED_PIC in rest:
                continue
            size = _SIZE.search(rest)
            if size is None:
                unreadable = unreadable or f"{match.group('codec')} stream without a frame size"
                continue
            width = int(size.group("w") or size.group("w2"))
            height = int(size.group("h") or size.group("h2"))
            rotation = _rotation_after(lines, position + 1)
            if rotation % 180:
                width, height = height, width
            video = VideoInfo(
                path=path,
                width=width,
                height=height,
                codec=match.group("codec"),
                fps=_fps(rest),
                duration=duration,
                rotation=rotation,
                container=container,
                interlaced=bool(_FIELD_ORDER.search(rest)),
            )
    return HeaderFacts(container, duration, video, unreadable)


def _fps(rest: str) -> float | None:
    match = _FPS.search(rest)
    if match is None:
        return None
    value = float(match.group("fps")) * (1000 if match.group("k") else 1)
    return value or None


def _rotation_after(lines: list[str], start: int) -> int:
    """The display rotation in the side data printed below a stream line, in degrees."""
    for line in lines[start : start + 12]:
        if "Stream #" in line:
            break
        if match := _ROTATION.search(line):
            return round(float(match.group("deg"))) % 360
    return 0


def time_base(line: str) -> Fraction | None:
    """The time base from showinfo's ``config in time_base: a/b`` line."""
    match = SHOWINFO_TIME_BASE.search(line)
    if match is None or int(match.group("den")) == 0:
        return None
    return Fraction(int(match.group("num")), int(match.group("den")))


def output_size(line: str) -> tuple[int, int] | None:
    """(width, height) from the rawvideo output stream line."""
    match = OUTPUT_SIZE.search(line)
    return (int(match.group(1)), int(match.group(2))) if match else None


_CONTEXT = re.compile(r"\[(?P<name>[^\]@]+?)(?: @ (?:0x)?[0-9a-fA-F]+)?\] ")


_OUTPUT_SIDE = re.compile(r"\bto muxer\b|^(?:out#|rawvideo$|null$)")
"""Messages about videopipe's own output (the pipe), never about the file."""


def problem_lines(lines: list[str], limit: int = 4, *, demuxer: str | None = None) -> str:
    """The last distinct error- or fatal-level messages, tidied for an error message.

    With ``demuxer`` (the container's ffmpeg format name), only the demuxer's own
    messages: see :func:`damage`.
    """
    found: list[str] = []
    for line in lines:
        if level_of(line) not in ("panic", "fatal", "error"):
            continue
        text = LEVEL.sub("", line, count=1)
        contexts = _CONTEXT.findall(text)
        message = _CONTEXT.sub("", text).strip().rstrip(".")
        if not message or _OUTPUT_SIDE.search(message):
            continue
        names = [context.split("/")[-1].split(":")[0] for context in contexts]
        if names and _OUTPUT_SIDE.search(contexts[0]):
            continue
        if demuxer is not None and not any(
            name == demuxer or context.startswith("in#")
            for name, context in zip(names, contexts, strict=True)
        ):
            continue
        tidy = f"{names[-1]}: {message}" if names else message
        if tidy not in found:
            found.append(tidy)
    return "; ".join(found[-limit:])


def damage(lines: list[str], demuxer: str | None, *, frames_missing: bool) -> str:
    """The messages that are evidence of damage (docs/errors.md: "When a log line is an error").

    A log line is evidence of damage only when frames are missing or ffmpeg failed: the
    demuxer's own errors say the container lost data (frames are missing by its
    account); a decoder's or parser's errors count only when ``frames_missing``
    (fewer frames than the packets hold, or packets the demuxer flagged damaged).
    """
    if frames_missing:
        return problem_lines(lines)
    return problem_lines(lines, demuxer=demuxer) if demuxer else ""


def spliced_into_showinfo(raw: bytes, frame: re.Match[bytes] | None) -> bool:
    """Whether another thread's message was printed into this ``showinfo`` line.

    ffmpeg's demuxer, decoders and filters log from their own threads. showinfo writes
    a line in several calls (the frame's fields, then its newline; each colour
    property), and a message logged between two of them lands inside the line without
    its prefix and level: a demuxer's ``[error]`` that is the only evidence of damage
    can hide in it (docs/errors.md). ``frame`` is the line's
    :data:`SHOWINFO_FRAME_BYTES` match, if any; text after the frame's fields or a
    colour line that holds more than colour properties is such a message. (Lines whose
    text is free, such as side data, are not judged.)
    """
    if frame is not None:
        end = SHOWINFO_FRAME_END.search(raw, frame.end())
        return end is not None and bool(raw[end.end() :].strip())
    if b"] color_range:" in raw:
        return _SHOWINFO_COLORS.search(raw) is None
    return False
