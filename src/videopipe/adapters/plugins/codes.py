"""Code readers: QR codes (zxing-cpp, or OpenCV) and ArUco fiducial markers (OpenCV).

Corner points are in pixel-edge coordinates: ``(0, 0)`` is the top-left corner of the
top-left pixel and a code covering pixels 10..19 spans 10.0 to 20.0. (OpenCV reports
pixel centres; its points are shifted by half a pixel to match.) A ``box`` is
``[x1, y1, x2, y2]`` in whole pixels, x2/y2 exclusive: the pixels the four corners
enclose, clipped to the frame.

Over 300 lines because its plugins share the corner-coordinate convention above and
the helpers that apply it (points, boxes); one module keeps the convention in one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np

from videopipe.adapters.summaries import code_intervals, marker_intervals
from videopipe.domain.errors import MissingDependencyError
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer

QRBackend = Literal["zxing", "opencv_aruco", "opencv"]
QRFormat = Literal["QRCode", "MicroQRCode", "RMQRCode"]
ArucoDictionary = Literal[
    "DICT_4X4_50",
    "DICT_4X4_100",
    "DICT_4X4_250",
    "DICT_4X4_1000",
    "DICT_5X5_50",
    "DICT_5X5_100",
    "DICT_5X5_250",
    "DICT_5X5_1000",
    "DICT_6X6_50",
    "DICT_6X6_100",
    "DICT_6X6_250",
    "DICT_6X6_1000",
    "DICT_7X7_50",
    "DICT_7X7_100",
    "DICT_7X7_250",
    "DICT_7X7_1000",
    "DICT_ARUCO_ORIGINAL",
    "DICT_APRILTAG_16h5",
    "DICT_APRILTAG_25h9",
    "DICT_APRILTAG_36h10",
    "DICT_APRILTAG_36h11",
    "DICT_ARUCO_MIP_36h12",
]
CornerRefinement = Literal["none", "subpix", "contour", "apriltag"]

QR_BACKENDS: tuple[str, ...] = get_args(QRBackend)
QR_FORMATS: tuple[str, ...] = get_args(QRFormat)
ARUCO_DICTIONARIES: tuple[str, ...] = get_args(ArucoDictionary)

_ZXING_FORMATS: dict[str, tuple[str, ...]] = {
    # zxing-cpp 3's ``QRCode`` is the whole family (Micro QR and rMQR too): name the
    # models, so a Micro QR misread inside a regular code's finder pattern is not asked for.
    "QRCode": ("QRCodeModel2", "QRCodeModel1"),
    "MicroQRCode": ("MicroQRCode",),
    "RMQRCode": ("RMQRCode",),
}
_ZXING_REPORTED: dict[str, str] = {
    "QRCode": "QRCode",
    "QRCodeModel1": "QRCode",
    "QRCodeModel2": "QRCode",
    "MicroQRCode": "MicroQRCode",
    "RMQRCode": "RMQRCode",
}

Corners = list[list[float]]


def _corners(points: Iterable[Sequence[float]], shift: float = 0.0) -> Corners:
    """Four ``[x, y]`` points as plain floats (rounded to 0.01 px), moved by ``shift``."""
    return [[round(float(x) + shift, 2), round(float(y) + shift, 2)] for x, y in points]


def _box(corners: Corners, width: int, height: int) -> list[int]:
    """The whole-pixel box ``[x1, y1, x2, y2]`` (x2/y2 exclusive) around ``corners``."""
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    x1 = min(max(math.floor(min(xs)), 0), width)
    y1 = min(max(math.floor(min(ys)), 0), height)
    x2 = min(max(math.ceil(max(xs)), x1), width)
    y2 = min(max(math.ceil(max(ys)), y1), height)
    return [x1, y1, x2, y2]


def _gray(cv2: Any, image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The frame as one contiguous uint8 plane (RGB in, BT.601 luma out)."""
    image = np.ascontiguousarray(image)
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY))
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def _import_cv2(what: str) -> Any:
    try:
        import cv2  # noqa: PLC0415 - optional dependency, imported when used
    except ImportError as exc:
        raise MissingDependencyError(what, "opencv") from exc
    return cv2


class QRDecode(Plugin):
    """Find and decode the QR codes in the frame.

    Output: ``{"codes": [{"text": str, "box": [x1, y1, x2, y2], "points": [[x, y] x 4]},
    ...]}``, sorted by ``(y1, x1)``. ``box`` is in whole pixels (ints, x2/y2 exclusive,
    clipped to the frame); ``points`` are the symbol's four corners as floats in
    pixel-edge coordinates, in the code's own order: top-left, top-right,
    bottom-right, bottom-left of the code as printed (so a code upside down starts at
    the frame's bottom-right). Only codes that decode are listed; no code: ``[]``.

    ``backend``: ``zxing`` (zxing-cpp, the default: on H.264 test frames it read every
    small, rotated and paired code, over 10x faster than OpenCV), ``opencv_aruco``
    (``cv2.QRCodeDetectorAruco``) or ``opencv`` (``cv2.QRCodeDetector``, misses codes
    when two of different sizes share a frame). See ``tests/dag/measure_qr.py``.
    ``formats`` restricts what is read: ``QRCode`` (regular QR, models 1 and 2),
    ``MicroQRCode`` and ``RMQRCode`` (the last two with ``zxing`` only).

    The ``zxing`` backend needs the ``qr`` extra, the OpenCV ones the ``opencv`` extra;
    a pipeline says which is missing when it loads.
    """

    name = "qr_decode"
    description = "Find and decode QR codes: text, box and corner points of each."
    outputs = {
        "codes": "[{text, box: [x1, y1, x2, y2], points: [[x, y] x 4]}], sorted by (y1, x1)",
    }
    pixel_outputs = frozenset({"codes"})
    params = {
        "backend": Param(
            QRBackend,
            "zxing",
            "decoder: zxing (zxing-cpp), opencv_aruco (cv2.QRCodeDetectorAruco) or opencv "
            "(cv2.QRCodeDetector)",
        ),
        "formats": Param(
            list[QRFormat],
            ["QRCode"],
            "code kinds to read: QRCode, MicroQRCode, RMQRCode (the last two: zxing only)",
        ),
    }
    requires = {"zxingcpp": "qr"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: per payload its intervals."""
        return code_intervals(max_gap)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._read: Any = None

    @classmethod
    def requirements(cls, params: Mapping[str, Any]) -> Mapping[str, str]:
        """zxing-cpp for the ``zxing`` backend, OpenCV for the others."""
        return cls.requires if params.get("backend", "zxing") == "zxing" else {"cv2": "opencv"}

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        """The OpenCV backends read regular QR codes only."""
        backend = params.get("backend", "zxing")
        if backend != "zxing" and set(params.get("formats", ["QRCode"])) != {"QRCode"}:
            raise ValueError(f"backend {backend!r} reads QRCode only, not {params['formats']!r}")

    def setup(self) -> None:
        """Check the parameters and make the decoder."""
        backend = self.config.get("backend", "zxing")
        formats = list(self.config.get("formats", ["QRCode"]))
        if backend not in QR_BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(QR_BACKENDS)}, got {backend!r}")
        unknown = [name for name in formats if name not in QR_FORMATS]
        if unknown or not formats:
            raise ValueError(
                f"formats must be a non-empty list of {', '.join(QR_FORMATS)}, got {formats!r}"
            )
        if backend == "zxing":
            self._read = self._zxing_reader(formats)
            return
        if set(formats) != {"QRCode"}:
            raise ValueError(f"backend {backend!r} reads QRCode only, not {formats!r}")
        cv2 = _import_cv2(f"qr_decode backend {backend!r}")
        detector = cv2.QRCodeDetectorAruco() if backend == "opencv_aruco" else cv2.QRCodeDetector()

        def read(image: np.ndarray[Any, Any]) -> list[tuple[str, Corners]]:
            ok, texts, points, _ = detector.detectAndDecodeMulti(_gray(cv2, image))
            if not ok or points is None:
                return []
            return [
                (str(text), _corners(quad, 0.5))
                for text, quad in zip(texts, points, strict=False)
                if text
            ]

        self._read = read

    @staticmethod
    def _zxing_reader(formats: Sequence[str]) -> Any:
        try:
            import zxingcpp  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415
        except ImportError as exc:
            raise MissingDependencyError("qr_decode backend 'zxing'", "qr") from exc
        wanted = zxingcpp.BarcodeFormats(
            [
                getattr(zxingcpp.BarcodeFormat, name)
                for kind in formats
                for name in _ZXING_FORMATS[kind]
            ]
        )
        kinds = set(formats)

        def read(image: np.ndarray[Any, Any]) -> list[tuple[str, Corners]]:
            image = np.ascontiguousarray(image)
            if image.ndim == 3 and image.shape[2] == 3:
                view: Any = zxingcpp.ImageView(
                    image, image.shape[1], image.shape[0], zxingcpp.ImageFormat.RGB
                )
            elif image.ndim == 3 and image.shape[2] == 4:
                view = zxingcpp.ImageView(
                    image, image.shape[1], image.shape[0], zxingcpp.ImageFormat.RGBA
                )
            else:
                view = image
            found = []
            for code in zxingcpp.read_barcodes(view, formats=wanted):
                if _ZXING_REPORTED.get(code.format.name) not in kinds:
                    continue
                where = code.position
                corners = (where.top_left, where.top_right, where.bottom_right, where.bottom_left)
                found.append((code.text, _corners((point.x, point.y) for point in corners)))
            return found

        return read

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The decoded codes of the frame, sorted top to bottom, then left to right."""
        if self._read is None:
            self.setup()
        image = inputs["image"]
        height, width = image.shape[:2]
        codes = [
            {"text": text, "box": _box(points, width, height), "points": points}
            for text, points in self._read(image)
        ]
        codes.sort(key=lambda code: (code["box"][1], code["box"][0], code["text"]))
        return {"codes": codes}


class ArucoMarkers(Plugin):
    """Detect ArUco (or AprilTag) fiducial markers of one dictionary.

    Output: ``{"markers": [{"id": int, "box": [x1, y1, x2, y2], "corners": [[x, y] x 4]},
    ...]}``, sorted by ``id`` (then by ``box`` when an id is seen twice). ``box`` is in
    whole pixels (ints, x2/y2 exclusive, clipped to the frame); ``corners`` are the
    marker's four outer corners as floats in pixel-edge coordinates, clockwise from
    the marker's own top-left (as ``cv2.aruco`` reports them). No marker: ``[]``.

    ``dictionary`` is the name of a predefined ``cv2.aruco`` dictionary (default
    ``DICT_4X4_50``); ``corner_refinement`` is OpenCV's corner refinement method
    (default ``subpix``, corners to a fraction of a pixel).
    """

    name = "aruco_markers"
    description = "Detect ArUco/AprilTag markers: id, box and corners of each."
    outputs = {"markers": "[{id, box: [x1, y1, x2, y2], corners: [[x, y] x 4]}], sorted by id"}
    pixel_outputs = frozenset({"markers"})
    params = {
        "dictionary": Param(
            ArucoDictionary, "DICT_4X4_50", "predefined cv2.aruco dictionary, e.g. DICT_4X4_50"
        ),
        "corner_refinement": Param(
            CornerRefinement, "subpix", "corner refinement: none, subpix, contour or apriltag"
        ),
    }
    requires = {"cv2": "opencv"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: per marker id its intervals."""
        return marker_intervals(max_gap)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._detector: Any = None
        self._cv2: Any = None

    def setup(self) -> None:
        """Make the detector for the dictionary."""
        dictionary = self.config.get("dictionary", "DICT_4X4_50")
        refinement = self.config.get("corner_refinement", "subpix")
        if dictionary not in ARUCO_DICTIONARIES:
            raise ValueError(
                f"dictionary must be one of {', '.join(ARUCO_DICTIONARIES)}, got {dictionary!r}"
            )
        if refinement not in get_args(CornerRefinement):
            raise ValueError(f"unknown corner_refinement {refinement!r}")
        cv2 = _import_cv2("aruco_markers")
        aruco = cv2.aruco
        parameters = aruco.DetectorParameters()
        parameters.cornerRefinementMethod = getattr(aruco, f"CORNER_REFINE_{refinement.upper()}")
        self._detector = aruco.ArucoDetector(
            aruco.getPredefinedDictionary(getattr(aruco, dictionary)), parameters
        )
        self._cv2 = cv2

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The markers of the frame, sorted by id."""
        if self._detector is None:
            self.setup()
        image = inputs["image"]
        height, width = image.shape[:2]
        found, ids, _ = self._detector.detectMarkers(_gray(self._cv2, image))
        markers = []
        if ids is not None:
            for quad, marker_id in zip(found, np.asarray(ids).reshape(-1), strict=False):
                corners = _corners(np.asarray(quad).reshape(4, 2), 0.5)
                markers.append(
                    {"id": int(marker_id), "box": _box(corners, width, height), "corners": corners}
                )
        markers.sort(key=lambda marker: (marker["id"], marker["box"]))
        return {"markers": markers}
