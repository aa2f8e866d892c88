"""The DAG engine: pipeline specs, the pipeline library and the runner."""

from videopipe.adapters.runners.dag.engine import DagPipelineRunner, to_jsonable
from videopipe.adapters.runners.dag.library import PipelineLibrary, check_pipeline_id
from videopipe.adapters.runners.dag.spec import Pipeline, load_pipeline

__all__ = [
    "DagPipelineRunner",
    "Pipeline",
    "PipelineLibrary",
    "check_pipeline_id",
    "load_pipeline",
    "to_jsonable",
]
