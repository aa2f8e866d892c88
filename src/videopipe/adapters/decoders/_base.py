"""Behaviour every video reader shares: being its own context manager."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class ClosingReader(ABC):
    """``with reader:`` closes the reader on the way out, whatever happened inside."""

    @abstractmethod
    def close(self) -> None:
        """Release everything the reader holds; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
