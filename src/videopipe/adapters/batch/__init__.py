"""Batch jobs: pools that run whole videos (local processes, a Dask cluster) and their files.

:class:`~videopipe.application.batch.InProcessVideoPool` (one video at a time, in this
process) lives in the application; here are the pools that need processes or a cluster.
"""

from __future__ import annotations

from videopipe.adapters.batch.processes import ProcessVideoPool

__all__ = ["ProcessVideoPool"]
