"""The summary table's cells say one thing in the singular, several in the plural."""

from __future__ import annotations

from videopipe.cli.summary import count, describe


def test_count_is_singular_for_one_only() -> None:
    assert count(1, "intervals") == "1 interval"
    assert count(0, "intervals") == "0 intervals"
    assert count(2, "scenes") == "2 scenes"


def test_describe_says_each_count_in_its_number() -> None:
    one = {"intervals": [{"first_frame": 0, "last_frame": 3}], "frames": 1}
    assert describe(one) == "1 interval, 1 frame"
    codes = {"codes": [{"text": "A", "intervals": [{}]}, {"text": "B", "intervals": [{}, {}]}]}
    assert describe(codes) == "2 codes: A (1 interval), B (2 intervals)"
    assert describe({"scenes": [{}]}) == "1 scene"
