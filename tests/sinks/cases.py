"""Results of every shipped kind, as the runners give them, for the sink tests."""

from __future__ import annotations

import math

import numpy as np

from videopipe.domain.model import FrameResult


def qr_codes(index: int) -> dict[str, object]:
    box = [97, 57 + index, 224, 184 + index]
    points = [[97.0, 57.0], [223.0, 57.0], [224.0, 184.0], [97.0, 183.0]]
    return {"codes": {"codes": [{"text": f"frame-{index}", "box": box, "points": points}]}}


CASES: dict[str, list[tuple[str, FrameResult]]] = {
    "qr_codes": [("qr.mp4", FrameResult(i, i * 0.04, qr_codes(i))) for i in range(5)],
    "two_codes_then_none": [
        (
            "qr.mp4",
            FrameResult(
                0,
                0.0,
                {
                    "codes": {
                        "codes": [
                            {"text": "a", "box": [1, 2, 3, 4], "points": [[1.0, 2.0]] * 4},
                            {"text": "b", "box": [5, 6, 7, 8], "points": [[5.0, 6.0]] * 4},
                        ]
                    }
                },
            ),
        ),
        ("qr.mp4", FrameResult(1, 0.04, {"codes": {"codes": []}})),
    ],
    "motion": [
        ("m.mp4", FrameResult(0, 0.0, {"motion": {"score": 0.0, "moving": False, "box": None}})),
        (
            "m.mp4",
            FrameResult(
                1, 0.04, {"motion": {"score": 0.0333, "moving": True, "box": [0, 0, 32, 80]}}
            ),
        ),
    ],
    "scenes": [
        ("s.mp4", FrameResult(0, 0.0, {"scene": {"score": 0.0, "cut": False, "kind": None}})),
        ("s.mp4", FrameResult(7, 0.28, {"scene": {"score": 1.25, "cut": True, "kind": "cut"}})),
    ],
    "markers_and_detections": [
        (
            "a.mp4",
            FrameResult(
                3,
                0.12,
                {
                    "markers": {
                        "markers": [{"id": 7, "box": [1, 1, 9, 9], "corners": [[1, 1]] * 4}]
                    },
                    "objects": {
                        "detections": [
                            {"box": [0.5, 1.5, 20.25, 30.0], "score": 0.91, "label": "person"},
                            {"box": [2.0, 3.0, 4.0, 5.0], "score": 0.4, "label": "car"},
                        ]
                    },
                },
            ),
        )
    ],
    "errors_from_skip": [
        ("e.mp4", FrameResult(0, 0.0, qr_codes(0))),
        (
            "e.mp4",
            FrameResult(
                1, 0.04, None, {"type": "PluginError", "message": 'boom, "x"\n', "attempts": 2}
            ),
        ),
        ("e.mp4", FrameResult(2, 0.08, qr_codes(2))),
    ],
    "empty_results": [
        ("z.mp4", FrameResult(0, 0.0, {})),
        ("z.mp4", FrameResult(1, 0.04, None)),
        ("z.mp4", FrameResult(2, 0.08, {"codes": {}})),
        ("z.mp4", FrameResult(3, 0.12, {"texts": {"texts": []}})),
    ],
    "unicode_text": [
        (
            "vidéo, «1».mp4",
            FrameResult(
                0,
                0.0,
                {
                    "text": {
                        "texts": [
                            {"text": 'Grüße, "東京"\nline 2', "score": 0.5, "box": [1, 2, 3, 4]},
                            {"text": "", "score": 0.25, "box": [1, 2, 3, 4]},
                            {"text": "emoji 🎥;,\r\n", "score": 1.0, "box": [1, 2, 3, 4]},
                        ]
                    }
                },
            ),
        )
    ],
    "nan_and_none_scores": [
        (
            "n.mp4",
            FrameResult(
                0,
                0.0,
                {
                    "objects": {
                        "detections": [
                            {"box": [1, 2, 3, 4], "score": math.nan, "label": "a"},
                            {"box": [1, 2, 3, 4], "score": None, "label": "b"},
                            {"box": [1, 2, 3, 4], "score": math.inf, "label": "c"},
                        ]
                    }
                },
            ),
        )
    ],
    "mock_runner_flat_result": [
        ("f.mp4", FrameResult(i, i / 25, {"mock": True, "frame_index": i, "bytes_length": 9}))
        for i in range(3)
    ],
    "numpy_values": [
        (
            "np.mp4",
            FrameResult(
                0,
                0.0,
                {
                    "stats": {
                        "mean": np.array([1.5, 2.5, 3.5]),
                        "brightness": np.float32(0.5),
                        "box": np.array([1, 2, 3, 4]),
                    }
                },
            ),
        )
    ],
    "several_videos": [
        ("one.mp4", FrameResult(0, 0.0, qr_codes(0))),
        ("one.mp4", FrameResult(0 + 1, 0.04, qr_codes(1))),
        ("two.mp4", FrameResult(0, 0.0, qr_codes(0))),
        ("one.mp4", FrameResult(0, 0.0, {"codes": {"codes": []}})),  # the same video again
        ("one.mp4", FrameResult(0, 0.0, {"codes": {"codes": []}})),  # a one-frame video twice
    ],
}
