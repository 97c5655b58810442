"""One class per API resource, each over the client's shared ``Transport``.

``kiln.Client`` composes them (``client.runs``, ``client.projects``, ...); a new domain adds a module
here and one attribute in ``Client.__init__`` (see docs/sdk.md).
"""

from kiln.client.resources.alerts import AlertsResource
from kiln.client.resources.artifacts import ArtifactsResource
from kiln.client.resources.auth import ApiKeysResource, AuthResource, ProjectsResource
from kiln.client.resources.base import Resource
from kiln.client.resources.datasets import DatasetsResource
from kiln.client.resources.deployments import DeploymentsResource
from kiln.client.resources.experiments import ExperimentsResource
from kiln.client.resources.jobs import JobsResource
from kiln.client.resources.lineage import LineageResource
from kiln.client.resources.model_lifecycle import ModelLifecycleResource
from kiln.client.resources.models import ModelsResource
from kiln.client.resources.monitoring import MonitoringResource
from kiln.client.resources.notifications import NotificationsResource
from kiln.client.resources.pipelines import PipelinesResource
from kiln.client.resources.predictions import PredictionsResource
from kiln.client.resources.runs import RunsResource
from kiln.client.resources.schedules import SchedulesResource

__all__ = [
    "AlertsResource",
    "ApiKeysResource",
    "ArtifactsResource",
    "AuthResource",
    "DatasetsResource",
    "DeploymentsResource",
    "ExperimentsResource",
    "JobsResource",
    "LineageResource",
    "ModelLifecycleResource",
    "ModelsResource",
    "MonitoringResource",
    "NotificationsResource",
    "PipelinesResource",
    "PredictionsResource",
    "ProjectsResource",
    "Resource",
    "RunsResource",
    "SchedulesResource",
]
