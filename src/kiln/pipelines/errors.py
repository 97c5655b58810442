"""The pipelines domain's own errors (each registers itself by its code; the SDK raises the same classes)."""

from __future__ import annotations

from kiln.core.errors import ValidationFailed


class PipelineDefinitionInvalid(ValidationFailed):
    """A definition that cannot run: a cycle, a dependency or function that does not exist, a
    function outside the modules the server allows. The message names the step."""

    code = "pipeline_definition_invalid"


class PipelineParametersInvalid(ValidationFailed):
    """A run asked for with parameters the pipeline does not take (type, bounds, missing)."""

    code = "pipeline_parameters_invalid"
