"""The names of everything a route, a page or a service may be asked to allow.

Names only: which role holds which permission is auth's table (``kiln/auth/permissions.py``). They
live in core so that every domain, including those below auth (audit, notify, jobs), can name the
permission its routes need. A misspelt member fails at import, never as a silent 403.

The value is the wire and audit spelling (``"runs:write"``); the member is the same with ``_``.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # accounts and administration (auth)
    profile_read = "profile:read"
    profile_write = "profile:write"
    api_keys_write = "api_keys:write"
    api_keys_revoke = "api_keys:revoke"
    users_admin = "users:admin"
    projects_read = "projects:read"
    projects_create = "projects:create"
    projects_admin = "projects:admin"
    # the audit trail
    audit_read = "audit:read"
    # lineage: the graph between datasets, runs, models, deployments and predictions
    lineage_read = "lineage:read"
    # tracking
    experiments_read = "experiments:read"
    experiments_write = "experiments:write"
    runs_read = "runs:read"
    runs_write = "runs:write"
    artifacts_read = "artifacts:read"
    artifacts_write = "artifacts:write"
    # registry: promote_production asks for production (and rolls back, moves aliases, sets gates);
    # approve decides such a request (never the requester's own, unless the project allows it)
    models_read = "models:read"
    models_write = "models:write"
    models_promote_staging = "models:promote_staging"
    models_promote_production = "models:promote_production"
    models_approve = "models:approve"
    # serving (coming)
    deployments_read = "deployments:read"
    deployments_write = "deployments:write"
    predictions_create = "predictions:create"
    # data (coming)
    datasets_read = "datasets:read"
    datasets_write = "datasets:write"
    quarantine_review = "quarantine:review"
    # pipelines (coming) and the job queue: jobs_write cancels and retries the caller's own jobs,
    # jobs_admin anyone's (in the caller's projects; jobs of no project are administrators')
    pipelines_read = "pipelines:read"
    pipelines_write = "pipelines:write"
    pipelines_run = "pipelines:run"
    jobs_read = "jobs:read"
    jobs_write = "jobs:write"
    jobs_admin = "jobs:admin"
    # cron schedules that enqueue jobs (pipelines' and others'), per project
    schedules_read = "schedules:read"
    schedules_write = "schedules:write"
    # monitoring (coming)
    monitors_read = "monitors:read"
    monitors_write = "monitors:write"
    alerts_read = "alerts:read"
    alerts_write = "alerts:write"
    # hyper-parameter optimisation (coming)
    hpo_read = "hpo:read"
    hpo_write = "hpo:write"
