"""The shot-boundary evaluation set: real footage cut together at known frames.

Every frame comes from footage or photographs that packages ship: OpenCV's sample
videos in Debian's ``opencv-doc`` (``Megamind.avi`` with its own three real cuts,
``vtest.avi``, ``tree.avi``, ``Megamind_bugy.avi`` with damaged frames), and still
photographs from ``opencv-doc`` and
scikit-image (camera pans and zooms over them). Nothing is downloaded.

Two videos, each at any size (640x360 and 1920x1080 in the benchmarks):

- ``hard``: hard cuts only, between shots that include what breaks naive detectors
  without being a boundary: flashes (brightened frames, a white frame, a partial
  flash), fast pans, dark scenes, letterboxed shots, a crowd walking past a still
  camera;
- ``mixed``: the same kinds of shots joined by hard cuts, dissolves of 6 to 24 frames
  and fades through black (out and in, out then cut in, cut out then in).

The truth is what the generator did: each :class:`Boundary` spans the frames of its
transition (``start`` = ``end`` = the first frame of the new shot for a hard cut).
``python -m tests.scenes.evalset DIR [--size 640x360]`` writes the videos and their
truth (``<name>.json``) into ``DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

from videopipe.testing.media import write_frames

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
FPS = 25
Frame = np.ndarray
Render = Callable[[int], Frame]

MEGAMIND_SHOTS = ((1, 98), (98, 154), (154, 200), (200, 270))
"""The shots of Megamind.avi as PyAV decodes it: ``[first, end)`` frame ranges."""


@dataclass(frozen=True)
class Boundary:
    """One transition: its kind and the frames it spans (``end``: first full new frame)."""

    kind: str  # "cut" | "dissolve" | "fade"
    start: int
    end: int


@dataclass
class Truth:
    """What a generated video holds."""

    name: str
    frames: int
    fps: int
    boundaries: list[Boundary] = field(default_factory=list)
    flashes: list[int] = field(default_factory=list)
    """Frames brightened by a flash (never a boundary)."""
    damaged: list[int] = field(default_factory=list)
    """Frames the source itself has damaged (a black or green band): never a boundary."""

    def to_json(self) -> dict[str, object]:
        """The truth as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True)
class Shot:
    """``frames`` frames drawn by ``render``; ``cuts`` are real cuts inside it (offsets)."""

    name: str
    frames: int
    render: Render
    cuts: tuple[int, ...] = ()
    flashes: tuple[int, ...] = ()
    damaged: tuple[int, ...] = ()


# -- sources -------------------------------------------------------------------------


def _fill(image: Frame, width: int, height: int) -> Frame:
    """``image`` cropped to the target aspect (centred) and resized to it."""
    rows, cols = image.shape[:2]
    if cols / rows > width / height:
        keep = round(rows * width / height)
        image = image[:, (cols - keep) // 2 : (cols - keep) // 2 + keep]
    else:
        keep = round(cols * height / width)
        image = image[(rows - keep) // 2 : (rows - keep) // 2 + keep]
    resized = Image.fromarray(np.ascontiguousarray(image)).resize((width, height), Image.BILINEAR)
    return np.asarray(resized)


@lru_cache(maxsize=3)
def _frames(name: str, first: int, count: int) -> tuple[Frame, ...]:
    """Frames ``first .. first+count-1`` of a sample video at its own size (a few cached)."""
    with av.open(str(OPENCV_DATA / name)) as container:
        decoded = itertools.islice(container.decode(video=0), first, first + count)
        return tuple(frame.to_ndarray(format="rgb24") for frame in decoded)


def footage(name: str, first: int, count: int, width: int, height: int) -> Render:
    """Frames ``first .. first+count-1`` of a sample video, filling ``width x height``."""
    return lambda index: _fill(_frames(name, first, count)[index], width, height)


@lru_cache(maxsize=8)
def photo(name: str) -> Frame:
    """A still photograph, RGB: ``skimage:<name>`` or an opencv-doc file name."""
    if name.startswith("skimage:"):
        from skimage import data  # noqa: PLC0415 - a dev dependency, only here

        return np.asarray(getattr(data, name.split(":", 1)[1])())[..., :3]
    return np.asarray(Image.open(OPENCV_DATA / name).convert("RGB"))


@lru_cache(maxsize=3)
def _enlarged(name: str, width: int, height: int, window: float) -> Frame:
    """The photo enlarged so that a window of ``window`` of its height exceeds the frame."""
    source = photo(name)
    scale = 1.05 / window * max(width / source.shape[1], height / source.shape[0])
    size = (math.ceil(source.shape[1] * scale), math.ceil(source.shape[0] * scale))
    return np.asarray(Image.fromarray(source).resize(size, Image.BILINEAR))


def camera(
    name: str,
    width: int,
    height: int,
    frames: int,
    *,
    pan: float,
    zoom: float = 1.0,
    window: float = 0.7,
    shake: float = 0.0,
) -> Render:
    """A camera over a still photo: a window panning and zooming, maybe shaking.

    The window is ``window`` of the photo's height (at the frame's aspect), centred;
    it pans ``pan`` times the free width over the shot (stopping at the photo's edge),
    zooms in by ``zoom``, and wobbles by up to ``shake`` of its size (a handheld camera:
    two sines a side, moving up to about ``shake`` each frame). Every frame has mild
    sensor noise (seeded by the frame).
    """

    def render(index: int) -> Frame:
        big = _enlarged(name, width, height, window)
        rows, cols = big.shape[:2]
        progress = index / max(1, frames - 1)
        size = window / (1.0 + (zoom - 1.0) * progress)
        window_h = min(rows, round(rows * size))
        window_w = min(cols, round(window_h * width / height))
        travel = cols - window_w
        phases = np.random.default_rng(len(name)).uniform(0, 2 * np.pi, 4)
        wobble = np.sin(index / np.array([1.1, 1.3]) + phases[:2])
        jitter = shake * (wobble + 0.5 * np.sin(index / np.array([0.5, 0.6]) + phases[2:])) / 1.5
        x = round(travel * (0.5 + pan * (progress - 0.5)) + jitter[0] * window_w)
        x = min(max(0, x), travel)
        y = round((rows - window_h) / 2 + jitter[1] * window_h)
        y = min(max(0, y), rows - window_h)
        crop = Image.fromarray(big[y : y + window_h, x : x + window_w])
        image = np.asarray(crop.resize((width, height), Image.BILINEAR)).astype(np.int16)
        noise = np.random.default_rng(index).integers(-3, 4, size=(height, width, 1))
        return np.clip(image + noise, 0, 255).astype(np.uint8)

    return render


# -- what breaks naive detectors ---------------------------------------------------------


def dark(render: Render, gain: float = 0.22) -> Render:
    """The same shot, underexposed."""
    return lambda index: (render(index).astype(np.float32) * gain).astype(np.uint8)


def letterbox(render: Render, width: int, height: int, aspect: float = 2.39) -> Render:
    """The shot scaled into a ``aspect``:1 band with black bars above and below."""
    band = round(width / aspect) // 2 * 2
    top = (height - band) // 2

    def boxed(index: int) -> Frame:
        image = np.zeros((height, width, 3), np.uint8)
        image[top : top + band] = np.asarray(
            Image.fromarray(render(index)).resize((width, band), Image.BILINEAR)
        )
        return image

    return boxed


def flashed(render: Render, flashes: dict[int, str]) -> Render:
    """Camera flashes on some frames: ``bright`` (x2.2 + 70), ``white``, ``partial``."""

    def draw(index: int) -> Frame:
        image = render(index)
        kind = flashes.get(index)
        if kind is None:
            return image
        pixels = image.astype(np.float32)
        if kind == "bright":
            pixels = pixels * 2.2 + 70.0
        elif kind == "white":
            pixels = pixels * 0.1 + 235.0
        else:  # a flash lighting the left of the scene, falling off to the right
            _rows, cols = image.shape[:2]
            ramp = np.clip(1.3 - np.arange(cols) / cols * 1.6, 0.0, 1.0)[None, :, None]
            pixels = pixels * (1.0 + 1.5 * ramp) + 120.0 * ramp
        return np.clip(pixels, 0, 255).astype(np.uint8)

    return draw


# -- shots -----------------------------------------------------------------------------


def shots(width: int, height: int, variant: int) -> list[Shot]:
    """The shot list of one video (``variant`` 0 or 1 picks other windows and photos)."""
    w, h = width, height
    mm = MEGAMIND_SHOTS
    photos = [
        "building.jpg", "skimage:astronaut", "fruits.jpg", "starry_night.jpg",
        "skimage:coffee", "leuvenA.jpg", "baboon.jpg", "skimage:rocket", "aloeL.jpg",
        "home.jpg", "skimage:chelsea", "pca_test1.jpg", "orange.jpg", "butterfly.jpg",
        "skimage:hubble_deep_field", "messi5.jpg", "squirrel_cls.jpg", "ela_original.jpg",
    ]  # fmt: skip
    photos = photos[variant * 3 :] + photos[: variant * 3]
    v = variant * 7

    def mega(shot: int, offset: int, count: int) -> Render:
        first, end = mm[shot]
        offset = min(offset, end - first - count)
        return footage("Megamind.avi", first + offset, count, w, h)

    def cam(index: int, frames: int, pan: float, zoom: float = 1.0, shake: float = 0.0) -> Shot:
        name = photos[index % len(photos)]
        window = 0.4 if abs(pan) >= 1 or shake else 0.7  # fast pans travel far
        render = camera(name, w, h, frames, pan=pan, zoom=zoom, window=window, shake=shake)
        return Shot(f"photo {name} pan {pan} shake {shake}", frames, render)

    listing: list[Shot] = []
    if variant == 0:  # the real footage with its own three cuts
        whole = footage("Megamind.avi", 1, 269, w, h)
        listing.append(Shot("Megamind.avi 1-269", 269, whole, cuts=(97, 153, 199)))
    listing += [
        cam(0, 40, 0.3),
        Shot("vtest crowd", 45, footage("vtest.avi", 100 + v * 20, 45, w, h)),
        cam(1, 35, 0.0, zoom=1.6),
        Shot("tree", 50, footage("tree.avi", 5 + v, 50, w, h)),
        cam(2, 40, 2.0),  # fast pan: two window widths in 40 frames
        Shot("megamind 2", 40, mega(1, 5 + v, 40)),
        Shot("dark vtest", 45, dark(footage("vtest.avi", 300 + v * 10, 45, w, h))),
        Shot("dark megamind 4", 40, dark(mega(3, 10 + v, 40), 0.18)),
        cam(3, 35, 0.2),
        Shot("letterbox megamind 1", 45, letterbox(mega(0, 20 + v, 45), w, h)),
        Shot("letterbox photo", 40, letterbox(camera(photos[4], w, h, 40, pan=0.4), w, h)),
        Shot(
            "flashes megamind 3", 40,
            flashed(mega(2, 2 + v, 40), {9: "bright", 22: "bright", 23: "bright"}),
            flashes=(9, 22, 23),
        ),
        Shot(
            "flashes photo", 40,
            flashed(camera(photos[5], w, h, 40, pan=0.3), {12: "white", 28: "partial"}),
            flashes=(12, 28),
        ),
        cam(6, 35, 3.0),  # very fast pan
        Shot(
            "flashes crowd", 45,
            flashed(footage("vtest.avi", 500 + v * 15, 45, w, h), {15: "bright", 30: "partial"}),
            flashes=(15, 30),
        ),
        cam(7, 35, 0.0, zoom=0.7),
        Shot(  # Megamind_bugy.avi: a real cut (98) among damaged frames (75, 95, 100)
            "damaged megamind", 50,
            footage("Megamind_bugy.avi", 60 + v, 50, w, h),
            cuts=(38 - v,), damaged=(15 - v, 35 - v, 40 - v),
        ),
        Shot("megamind 4", 45, mega(3, 15 + v, 45)),
        cam(8, 40, -0.5),
        Shot("dark megamind 1", 40, dark(mega(0, 50 - v, 40), 0.25)),
        Shot("dark photo", 35, dark(camera(photos[9], w, h, 35, pan=0.5), 0.2)),
        Shot("megamind 3", 35, mega(2, 8 - v // 2, 35)),
        cam(10, 30, -1.5),
        Shot("letterbox crowd", 40, letterbox(footage("vtest.avi", 650 - v * 5, 40, w, h), w, h)),
        Shot("letterbox megamind 2", 35, letterbox(mega(1, 12, 35), w, h)),
        cam(11, 35, 0.3, shake=0.03),  # handheld
        Shot("vtest crowd 2", 40, footage("vtest.avi", 420 + v * 5, 40, w, h)),
        cam(12, 30, 0.0, zoom=1.3),
        Shot("megamind 1", 40, mega(0, 5 + v, 40)),
        cam(13, 30, -0.4),
        cam(14, 35, 1.0),
        Shot("tree 2", 40, footage("tree.avi", 20 - v, 40, w, h)),
        cam(15, 35, 0.2),
        Shot(
            "flashes dark", 40,
            flashed(dark(mega(3, 5, 40), 0.3), {18: "bright", 19: "bright"}),
            flashes=(18, 19),
        ),
        cam(16, 35, -0.3),
        cam(17, 30, 0.6, shake=0.06),  # a camera shaken hard
    ]  # fmt: skip
    return listing


# -- transitions -------------------------------------------------------------------------

MIXED_TRANSITIONS: tuple[tuple[str, int, int, int], ...] = (
    ("cut", 0, 0, 0),
    ("dissolve", 12, 0, 0),
    ("fade", 10, 4, 10),
    ("dissolve", 6, 0, 0),
    ("cut", 0, 0, 0),
    ("dissolve", 24, 0, 0),
    ("fade", 8, 0, 12),
    ("dissolve", 16, 0, 0),
    ("fade", 12, 3, 0),  # fade out, black, cut in
    ("cut", 0, 0, 0),
    ("dissolve", 8, 0, 0),
    ("fade", 0, 2, 10),  # cut to black, fade in
)
"""``(kind, length or fade-out, black frames, fade-in)``, cycled between ``mixed``'s shots."""


def timeline(
    shot_list: list[Shot],
    transitions: list[tuple[str, int, int, int]],
    truth: Truth,
) -> Iterator[Frame]:
    """Every frame of the shots joined by ``transitions``; boundaries and flashes go to ``truth``.

    A shot keeps moving under a dissolve or a fade-out: its last frames are the ones
    blended or darkened.
    """
    skip, fade_in = 0, 0
    for number, shot in enumerate(shot_list):
        kind, out, hold, into = (
            transitions[number] if number + 1 < len(shot_list) else ("", 0, 0, 0)
        )
        for index in range(skip, shot.frames - out):
            image = shot.render(index)
            if index < fade_in:
                image = (image.astype(np.float32) * (index + 1) / (fade_in + 1)).astype(np.uint8)
            if index in shot.cuts:
                truth.boundaries.append(Boundary("cut", truth.frames, truth.frames))
            if index in shot.flashes:
                truth.flashes.append(truth.frames)
            if index in shot.damaged:
                truth.damaged.append(truth.frames)
            yield image
            truth.frames += 1
        if not kind:
            return
        following = shot_list[number + 1]
        skip, fade_in = (out, 0) if kind == "dissolve" else (0, into)
        end = truth.frames + (out if kind == "dissolve" else out + hold + into)
        truth.boundaries.append(Boundary(kind, truth.frames, end))
        for step in range(out):
            outgoing = shot.render(shot.frames - out + step).astype(np.float32)
            alpha = (step + 1) / (out + 1)
            if kind == "dissolve":
                image = outgoing * (1 - alpha) + following.render(step) * alpha
            else:
                image = outgoing * (1 - alpha)
            yield image.astype(np.uint8)
            truth.frames += 1
        for _ in range(hold):
            yield np.zeros(image.shape, np.uint8)
            truth.frames += 1


def generate(name: str, directory: Path, width: int, height: int) -> tuple[Path, Truth]:
    """Write video ``name`` (``hard`` or ``mixed``) at ``width x height``; its truth."""
    shot_list = shots(width, height, 0 if name == "hard" else 1)
    count = len(shot_list) - 1
    if name == "hard":
        transitions = [("cut", 0, 0, 0)] * count
    else:
        transitions = [MIXED_TRANSITIONS[i % len(MIXED_TRANSITIONS)] for i in range(count)]
    truth = Truth(name, 0, FPS)
    path = directory / f"{name}-{width}x{height}.mp4"
    write_frames(
        path, timeline(shot_list, transitions, truth), width=width, height=height, fps=FPS,
        gop=FPS * 4, output_args=["-preset", "veryfast", "-crf", "20"],
    )  # fmt: skip
    (directory / f"{name}-{width}x{height}.json").write_text(json.dumps(truth.to_json()))
    return path, truth


def load_truth(path: Path) -> Truth:
    """The truth written next to a generated video (``<video>.json``)."""
    data = json.loads(path.with_suffix(".json").read_text())
    boundaries = [Boundary(**item) for item in data.pop("boundaries")]
    return Truth(**data, boundaries=boundaries)


def main() -> None:
    """Write the evaluation set: ``python -m tests.scenes.evalset DIR [--size WxH]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--size", default="640x360")
    arguments = parser.parse_args()
    width, height = map(int, arguments.size.split("x"))
    arguments.directory.mkdir(parents=True, exist_ok=True)
    for name in ("hard", "mixed"):
        path, truth = generate(name, arguments.directory, width, height)
        print(f"{path}: {truth.frames} frames, {len(truth.boundaries)} boundaries")


if __name__ == "__main__":
    main()
