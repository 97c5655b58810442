"""Telling a dataset's owners that a version failed its quality checks (in the app and by mail).

The owners are the project's active members whose role may change the dataset (``datasets:write``):
they can fix the data, release or discard its quarantine. The actor is told too (an appending
service's key acts for a person who needs to know). Sent in the version's transaction, so a version
that rolls back alerts no one. The text says what failed, with the numbers, and where to look:
"column `latency_ms`: 12% nulls, up from 0.1%; 340 rows quarantined; see http://.../quarantine".
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiln.auth.projects import project_recipients
from kiln.core.permissions import Permission
from kiln.data.models import Dataset, DatasetVersion
from kiln.data.quality_schemas import QualityReport
from kiln.notify.email import Mailer
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import notify

_SHOWN_CHECKS = 5


# With the project: two projects may each hold a dataset of the same name.
def version_link(dataset: Dataset, version: DatasetVersion) -> str:
    return f"/datasets/{dataset.name}/versions/{version.number}?project={dataset.project_id}"


def quarantine_link(dataset: Dataset) -> str:
    return f"/datasets/{dataset.name}/quarantine?project={dataset.project_id}"


def quality_failed(
    session: Session,
    dataset: Dataset,
    version: DatasetVersion,
    report: QualityReport,
    *,
    quarantined: int,
    mailer: Mailer,
) -> int:
    """Alert the owners; returns how many were reached."""
    failed = [check for check in report.failed if check.severity == "error"]
    link = quarantine_link(dataset) if quarantined else version_link(dataset, version)
    where = mailer.absolute_url(link)
    lines = [_with_count(check.message, quarantined) + f"; see {where}" for check in failed[:1]]
    lines += [check.message for check in failed[1:_SHOWN_CHECKS]]
    if len(failed) > _SHOWN_CHECKS:
        lines.append(f"(and {len(failed) - _SHOWN_CHECKS} more failed checks)")
    lines += [
        "",
        f"Reads of {dataset.name} v{version.number} are refused until fixed "
        f"(the version: {mailer.absolute_url(version_link(dataset, version))}). Fix the data and append "
        "or upload it again; release or discard the quarantined rows.",
    ]
    headline = failed[0].message if failed else "quality checks failed"
    return notify(
        session,
        project_recipients(session, dataset.project_id, permission=Permission.datasets_write),
        kind=NotificationKind.dataset_quality_failed,
        title=f"{dataset.name} v{version.number} failed its quality checks: {headline}",
        body="\n".join(lines),
        link=link,
        project_id=dataset.project_id,
        mailer=mailer,
    )


def _with_count(message: str, quarantined: int) -> str:
    """A null-rate message names its column's quarantined rows already; others get the batch's."""
    if not quarantined or "quarantined" in message:
        return message
    return f"{message}; {quarantined:,} rows quarantined"
