"""Every hostile input of the corpus, through the service, on every decoder.

The corpus is built once per session (``corpus.build_corpus``); each case runs in a
fresh process (``run_case.py``) under a hard deadline, so a hang fails the test
instead of stalling the suite, and a leaked process, thread or descriptor shows in
that process alone. What each case must give is its ``expect`` (see ``corpus.py``);
a case that fails today because of a bug in ``src/`` is a strict xfail naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.corpus import (
    CASES,
    CASES_BY_NAME,
    DECODERS,
    Built,
    Error,
    Frames,
    Partial,
    build_corpus,
    check_result,
)
from tests.hardening.procs import last_json_line, run_with_deadline

DEADLINE = 60.0
"""Seconds a case's process may take in all before it is killed and the test fails."""


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for decoder in DECODERS:
            if decoder not in case.decoders:
                continue
            marks = []
            if decoder in case.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=case.xfail[decoder]))
            params.append(
                pytest.param(case.name, decoder, id=f"{case.name}-{decoder}", marks=marks)
            )
    return params


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    return build_corpus(tmp_path_factory.mktemp("hostile-corpus"))


def run_case(decoder: str, folder: Path, built: Built) -> dict[str, Any]:
    """Run ``built`` in a fresh process; fail the test if it hangs or crashes."""
    command = built.worker_command(decoder)
    done = run_with_deadline(command, deadline=DEADLINE)
    if done.timed_out:
        pytest.fail(f"HANG: {built.case.name} on {decoder} killed after {DEADLINE:g} s")
    line = last_json_line(done.stdout)
    if done.returncode != 0 or line is None:
        pytest.fail(
            f"the worker crashed (exit {done.returncode}):\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(line)
    return result


@pytest.mark.parametrize(("name", "decoder"), _params())
def test_hostile_input(corpus: dict[str, Built], name: str, decoder: str) -> None:
    built = corpus[name]
    case = CASES_BY_NAME[name]
    result = run_case(decoder, built.folder, built)
    check_result(result, built)
    assert result["seconds"] < case.max_seconds, (
        f"took {result['seconds']} s (limit {case.max_seconds} s)"
    )
    assert result["leaked_children"] == [], "child processes left running"
    assert result["leaked_threads"] == 0, "threads left running"
    assert result["leaked_fds"] == 0, "file descriptors left open"


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CASES) >= 40
    expectations = {type(case.expect) for case in CASES}
    assert expectations == {Frames, Error, Partial}
    mid_stream = [case for case in CASES if case.name.startswith("trunc-moovstart-mid-")]
    moov_end = [case for case in CASES if case.name.startswith("trunc-moovend-")]
    assert len(mid_stream) >= 5
    assert len(moov_end) >= 5
