"""The plugin port: one node's work on one frame of a pipeline (a DAG of plugins)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from videopipe.domain.model import FrameSize
from videopipe.ports.summaries import Reducer

_NO_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter a plugin accepts: its type, default (none: required) and meaning.

    ``type`` is a Python type or typing form (``int``, ``float``, ``str``, ``bool``,
    ``list[str]``, ``tuple[int, int, int]``, ``str | None``, ...); the pipeline loader
    validates values against it with a schema library and refuses unknown names.
    """

    type: Any
    default: Any = _NO_DEFAULT
    help: str = ""

    @property
    def required(self) -> bool:
        """Whether a pipeline must give a value."""
        return self.default is _NO_DEFAULT


@dataclass(frozen=True, slots=True)
class FrameContext:
    """Where a plugin call happens: pipeline, node, frame."""

    pipeline_id: str
    node_id: str
    frame_index: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """What a stateful plugin saw and produced on an earlier processed frame."""

    frame_index: int
    timestamp: float
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)


class Plugin(ABC):
    """A vision plugin. Subclasses declare what they take, give and accept.

    - ``name``: the id pipelines use (``plugin: qr_decode``).
    - ``inputs``: input name -> meaning. A node binds each input to ``frame.<key>``
      (``image``, ``timestamp``, ``frame_index``, ``width``, ``height``) or to another
      node's output ``<node>.<output>``; unbound inputs default to ``frame.<name>``.
      Inputs listed in ``optional_inputs`` may stay unbound (then ``None``).
    - ``outputs``: output name -> meaning (the plugin's result dict has these keys).
    - ``params``: parameter name -> :class:`Param`.
    - ``history``: how many earlier processed frames the plugin needs (0: stateless).
      The engine keeps them and passes them to :meth:`process`, newest last: the
      entries of the last ``history`` processed frames on which the node ran to the end
      (a frame on which it, or a node before it, failed leaves no entry).
    - ``recurrent``: for a plugin with history, whether a result may depend on every
      earlier frame. ``True`` (the default, the safe assumption) when :meth:`process`
      reads its own earlier outputs (``HistoryEntry.outputs``), keeps state between
      calls, or fails depending on its history. ``False`` declares that the outputs
      depend only on this frame's inputs and the *inputs* of the entries it is shown,
      and that whether it raises depends on this frame's inputs only: then a run that
      starts a few frames early is exact, and executors may split the video (see
      :meth:`videopipe.adapters.runners.dag.DagPipelineRunner.history_frames`).
    - ``pixel_outputs``: the outputs that hold frame-pixel coordinates: a box
      ``[x1, y1, x2, y2]``, a point ``[x, y]``, lists of them, or lists of dicts whose
      ``box`` / ``points`` / ``corners`` / ``polygon`` hold them. Plugins work in the
      pixels of the image they get; when the decoder scaled the frame down (a
      pipeline's ``frame:`` size), the engine maps these outputs back to the video's
      pixels in the pipeline's results.
    - ``requires``: importable module -> optional dependency group (extra) it comes
      from; a pipeline using the plugin fails at load, with the ``pip install``
      command, when one is missing. Import such modules inside :meth:`setup` or
      :meth:`process`, never at the top of the plugin's module: the module is imported
      before ``requires`` is checked.
    - :meth:`reducer`: how the node's per-frame outputs fold into a per-video summary
      (``None``, the default: the node has no summary).

    One instance serves one node; :meth:`setup` runs once before the first frame
    (load models there), :meth:`close` once at the end.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[Mapping[str, str]] = {"image": "the frame, RGB uint8 (H, W, 3)"}
    optional_inputs: ClassVar[frozenset[str]] = frozenset()
    outputs: ClassVar[Mapping[str, str]] = {}
    params: ClassVar[Mapping[str, Param]] = {}
    history: ClassVar[int] = 0
    recurrent: ClassVar[bool] = True
    requires: ClassVar[Mapping[str, str]] = {}
    pixel_outputs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **params: Any) -> None:
        self.config: dict[str, Any] = params

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        """Refuse a combination of parameters (each already type-checked): raise ValueError.

        Called when a pipeline loads, so a bad combination fails before the first frame.
        """
        return

    @classmethod
    def requirements(cls, params: Mapping[str, Any]) -> Mapping[str, str]:
        """The modules (-> extras) this configuration needs; by default ``requires``."""
        return cls.requires

    @classmethod
    def frame_size(cls, params: Mapping[str, Any]) -> FrameSize | None:
        """The frame size this configuration works on (``None``: any, the default).

        A pipeline without a ``frame:`` key has its frames decoded at this size when
        every node reading ``frame.image`` declares the same one.
        """
        return None

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer | None:
        """A fresh :class:`~videopipe.ports.summaries.Reducer` for a node with ``params``.

        It is fed the node's outputs frame after frame and answers the node's summary in
        the video's report; ``max_gap`` is how many processed frames an interval may
        skip and still be one. ``None`` (the default): the node has no summary.
        """
        return None

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (models, sessions) once, before the first frame."""

    @abstractmethod
    def process(
        self,
        inputs: Mapping[str, Any],
        context: FrameContext,
        history: Sequence[HistoryEntry] = (),
    ) -> dict[str, Any]:
        """The outputs for one frame (a dict with the keys of ``outputs``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`setup` acquired."""
