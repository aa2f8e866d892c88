"""The real runner: runs a pipeline's DAG of plugins on each frame.

Over 300 lines because the runner is one object that owns each thread's plugin
instances and history and answers the capabilities executors and the service ask of a
pipeline (its history, its frame size, its reducers, its digest); the pieces that need
none of that state (JSON values, mapping pixels back to the video's, spec loading) are
in their own modules.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from videopipe.adapters.runners.dag.geometry import to_source_pixels
from videopipe.adapters.runners.dag.library import PipelineLibrary
from videopipe.adapters.runners.dag.spec import FRAME, Pipeline
from videopipe.adapters.summaries import check_max_gap
from videopipe.domain.errors import PluginError
from videopipe.domain.model import FrameSize
from videopipe.ports.plugins import FrameContext, HistoryEntry, Plugin
from videopipe.ports.summaries import Reducer
from videopipe.ports.work import UNBOUNDED_HISTORY


def to_jsonable(value: Any) -> Any:
    """Plain Python values: numpy scalars become numbers, vectors lists.

    An image or any array of two or more dimensions is not copied into a result:
    it becomes ``{"array": {"shape": [...], "dtype": "..."}}``, so a pipeline that lists
    an image-producing node among its outputs gets small results, not megabytes of
    nested lists.
    """
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.ndim >= 2:
            return {"array": {"shape": list(value.shape), "dtype": str(value.dtype)}}
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


SETUP_LOCK = threading.Lock()
"""Plugins are built and set up one at a time, in every thread of the process.

Libraries imported in ``setup`` are not all safe to import from two threads at once:
OpenCV's package replaces its own module in ``sys.modules`` while it loads, so a second
thread could get a ``cv2`` without ``cv2.data`` (seen with the threads executor).
Setup runs once per node and thread, so the lock costs nothing per frame."""


class _Run:
    """One pipeline's plugin instances (set up once) and stateful plugins' history.

    Each node with ``history = h`` keeps one slot per processed frame, for the last
    ``h`` frames: the node's :class:`HistoryEntry`, or ``None`` when the node did not
    run to the end on that frame (it failed, or a node before it did). The plugin is
    shown the entries, newest last. Because a slot is taken on every frame, what a
    node is shown depends on the last ``h`` frames only, never on how far back its
    last success was: that is what makes a run started a few frames early exact.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.plugins: dict[str, Plugin] = {}
        self.failed_setups: dict[str, Exception] = {}
        # One slot more than shown: a retried frame gives its slot back, and the oldest
        # one must still be there then.
        self.history: dict[str, collections.deque[tuple[int, HistoryEntry | None]]] = {
            node_id: collections.deque(maxlen=node.plugin.history + 1)
            for node_id, node in pipeline.nodes.items()
            if node.plugin.history > 0
        }
        self.video: object = None
        self.last_index: int | None = None

    def plugin(self, node_id: str, frame_index: int) -> Plugin:
        instance = self.plugins.get(node_id)
        if instance is not None:
            return instance
        node = self.pipeline.nodes[node_id]
        failure = self.failed_setups.get(node_id)
        if failure is None:
            try:
                with SETUP_LOCK:
                    instance = node.plugin(**node.params)
                    instance.setup()
            except Exception as exc:
                # Set up once: a failed setup (a missing model) is not retried every frame.
                self.failed_setups[node_id] = failure = exc
            else:
                self.plugins[node_id] = instance
                return instance
        raise PluginError(
            self.pipeline.id, node_id, node.plugin.name, frame_index, failure
        ) from failure

    def new_frame(self, video: object, frame_index: int) -> None:
        """Forget history when a new video starts (or the same one starts over).

        The same frame again is another attempt at it (the service retrying a failed
        call): the slots the earlier attempt took are given back first.
        """
        if video != self.video or (self.last_index is not None and frame_index < self.last_index):
            self.forget_history()
        elif frame_index == self.last_index:
            for slots in self.history.values():
                if slots and slots[-1][0] == frame_index:
                    slots.pop()
        self.video = video
        self.last_index = frame_index

    def entries(self, node_id: str) -> tuple[HistoryEntry, ...]:
        """What the node is shown: its entries of the last ``history`` frames."""
        slots = self.history.get(node_id)
        if not slots:
            return ()
        shown = itertools.islice(
            slots, max(0, len(slots) - self.pipeline.nodes[node_id].plugin.history), None
        )
        return tuple(entry for _, entry in shown if entry is not None)

    def end_frame(self, frame_index: int, completed: Mapping[str, HistoryEntry]) -> None:
        """Take one slot per stateful node for this frame (``None``: it did not complete)."""
        for node_id, slots in self.history.items():
            slots.append((frame_index, completed.get(node_id)))

    def forget_history(self) -> None:
        for slots in self.history.values():
            slots.clear()
        self.video = None
        self.last_index = None

    def close(self) -> None:
        for instance in self.plugins.values():
            instance.close()
        self.plugins.clear()


class _ThreadState:
    """The runs (plugin instances and history) of the thread that owns this state."""

    def __init__(self) -> None:
        self.owner: threading.Thread | None = None
        self.runs: dict[str, _Run] = {}

    def available(self) -> bool:
        return self.owner is None or not self.owner.is_alive()

    def close(self) -> None:
        for run in self.runs.values():
            run.close()
        self.runs.clear()


def pipeline_history(pipeline: Pipeline) -> int:
    """How many earlier processed frames a result of ``pipeline`` may depend on.

    ``UNBOUNDED_HISTORY`` when a node with history is ``recurrent``; otherwise the sum
    of every node's ``history`` (not the longest path: a failure off a node's path still
    decides whether it took an entry; the proof is in docs/executors.md, "Why the sum").
    """
    total = 0
    for node in pipeline.nodes.values():
        if node.plugin.history > 0 and node.plugin.recurrent:
            return UNBOUNDED_HISTORY
        total += node.plugin.history
    return total


class DagPipelineRunner:
    """A :class:`~videopipe.ports.PipelineRunner` over pipelines from a library.

    ``run_pipeline(pipeline_id, payload)`` loads the pipeline once (cached), sets each
    node's plugin up once per runner (models load once, not per frame), runs the nodes
    in topological order and returns ``{output_node: its outputs}`` as plain,
    JSON-serialisable values. A plugin that raises becomes :class:`PluginError` (the
    plugin's exception is its cause), handled by the pipeline's ``on_error``:
    ``raise``, ``skip`` (the result is ``{"error": {...}}``) or ``retry`` (``retries``
    more attempts, then raise).
    """

    thread_safe = True
    """Frames may be run from several threads at once: each thread has its own plugin
    instances and history (a state is reused by a later thread once its owner ended)."""

    def __init__(self, library: PipelineLibrary | None = None) -> None:
        self.library = library or PipelineLibrary()
        self._states: list[_ThreadState] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the library only: another process sets its own plugins up afresh."""
        return {"library": self.library}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["library"])  # type: ignore[misc]

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run the pipeline's DAG on one frame's payload."""
        frame_index = int(payload["frame_index"])
        run = self._run(pipeline_id, payload.get("video_path"), frame_index)
        context_base = (pipeline_id, frame_index, float(payload.get("timestamp", 0.0)))
        run.new_frame(payload.get("video_path"), frame_index)
        values: dict[str, Mapping[str, Any]] = {FRAME: payload}
        completed: dict[str, HistoryEntry] = {}
        pipeline = run.pipeline
        try:
            for node_id in pipeline.order:
                node = pipeline.nodes[node_id]
                inputs = {
                    name: (None if binding.key is None else values[binding.node][binding.key])
                    for name, binding in node.bindings.items()
                }
                context = FrameContext(context_base[0], node_id, frame_index, context_base[2])
                try:
                    outputs = self._call(run, node_id, inputs, context)
                except PluginError as error:
                    if pipeline.on_error == "skip":
                        return {"error": self._describe(error)}
                    raise
                values[node_id] = outputs
                if node_id in run.history:
                    completed[node_id] = HistoryEntry(
                        frame_index, context.timestamp, inputs, outputs
                    )
        finally:
            run.end_frame(frame_index, completed)
        results = {node_id: to_jsonable(dict(values[node_id])) for node_id in pipeline.outputs}
        return to_source_pixels(results, pipeline, payload.get("scale", (1.0, 1.0)))

    def frame_size(self, pipeline_id: str) -> FrameSize | None:
        """The size ``pipeline_id`` works on (its ``frame:``, or what its plugins declare).

        Results stay in the video's pixels (:func:`to_source_pixels`).
        """
        return self.library.load(pipeline_id).frame_size

    def pipeline_digest(self, pipeline_id: str) -> str:
        """What ``pipeline_id`` runs, as a digest (:func:`~.library.pipeline_digest`)."""
        return self.library.digest(pipeline_id)

    def history_frames(self, pipeline_id: str) -> int:
        """How many earlier processed frames a result of ``pipeline_id`` may depend on.

        See :func:`pipeline_history` (the sum of the nodes' ``history``, or
        ``UNBOUNDED_HISTORY`` when one is ``recurrent``). Executors warm a split run
        with that many frames so that its results are those of a sequential run.
        """
        return pipeline_history(self.library.load(pipeline_id))

    def reducers(self, pipeline_id: str, *, max_gap: int = 0) -> dict[str, Reducer]:
        """Fresh reducers of ``pipeline_id``'s output nodes whose plugin declares one.

        (:class:`~videopipe.ports.summaries.SummarizingRunner`; see ``Plugin.reducer``.)
        """
        check_max_gap(max_gap)
        pipeline = self.library.load(pipeline_id)
        found: dict[str, Reducer] = {}
        for node_id in pipeline.outputs:
            node = pipeline.nodes[node_id]
            reducer = node.plugin.reducer(node.params, max_gap=max_gap)
            if reducer is not None:
                found[node_id] = reducer
        return found

    def _call(
        self, run: _Run, node_id: str, inputs: dict[str, Any], context: FrameContext
    ) -> Mapping[str, Any]:
        pipeline = run.pipeline
        node = pipeline.nodes[node_id]
        plugin = run.plugin(node_id, context.frame_index)
        history = run.entries(node_id)
        attempts = 1 + (pipeline.retries if pipeline.on_error == "retry" else 0)
        for attempt in range(1, attempts + 1):
            try:
                outputs = plugin.process(inputs, context, history)
                missing = [name for name in node.plugin.outputs if name not in outputs]
                if missing:
                    raise ValueError(f"the plugin returned no {', '.join(map(repr, missing))}")
            except Exception as exc:
                if attempt < attempts:
                    continue
                error = PluginError(
                    pipeline.id, node_id, node.plugin.name, context.frame_index, exc
                )
                error.attempts = attempt  # type: ignore[attr-defined]
                raise error from exc
            return outputs
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _describe(error: PluginError) -> dict[str, Any]:
        cause = error.__cause__
        return {
            "node": error.node,
            "plugin": error.plugin,
            "type": type(cause).__name__ if cause else type(error).__name__,
            "message": str(cause) if cause else str(error),
            "attempts": getattr(error, "attempts", 1),
        }

    def _state(self) -> _ThreadState:
        """The calling thread's state: its own, or one whose owner thread has ended."""
        state: _ThreadState | None = getattr(self._local, "state", None)
        if state is not None:
            return state
        current = threading.current_thread()
        with self._lock:
            state = next((each for each in self._states if each.available()), None)
            if state is None:
                state = _ThreadState()
                self._states.append(state)
            else:  # keep its plugin instances (models stay loaded), not its history
                for run in state.runs.values():
                    run.forget_history()
            state.owner = current
        self._local.state = state
        return state

    def _run(self, pipeline_id: str, video: object = None, frame_index: int = -1) -> _Run:
        """The thread's run of ``pipeline_id``; its file is checked when a video starts.

        A later frame of the video in progress reuses the run without asking the
        library (finding and checking the file took 0.06-0.09 ms a frame): a pipeline
        file edited during a video takes effect from the next one.
        """
        state = self._state()
        run = state.runs.get(pipeline_id)
        if (
            run is not None
            and video is not None
            and run.video == video
            and run.last_index is not None
            and frame_index > run.last_index
        ):
            return run
        pipeline = self.library.load(pipeline_id)
        if run is None or run.pipeline is not pipeline:
            if run is not None:
                run.close()
            run = _Run(pipeline)
            state.runs[pipeline_id] = run
        return run

    def close(self) -> None:
        """Close every plugin instance of every thread (release models)."""
        with self._lock:
            for state in self._states:
                state.close()
