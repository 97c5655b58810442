"""Cron expressions read in a time zone: checked once, when a schedule is made, then only iterated.

croniter parses the expression (five fields, or the ``@daily`` family) and walks it in the
schedule's zone (zoneinfo), so "0 2 * * *" in Europe/Paris fires at 02:00 Paris time on both sides
of a daylight-saving change; every instant leaves here in UTC. Nothing of the expression is ever
executed: it is data croniter reads. A bad expression or zone raises ``ValueError`` naming it, so
the schemas that call these checks answer 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, croniter

CRON_LENGTH = 120
ZONE_LENGTH = 64


def check_cron(expression: str) -> str:
    """The expression with its spaces normalised, or ``ValueError`` naming what is wrong with it."""
    cleaned = " ".join(expression.split())
    if not cleaned:
        raise ValueError("a cron expression is needed, such as '0 2 * * *' (daily at 02:00)")
    # Seconds (a sixth field) and years (a seventh) would fire far more often than a queue should.
    if not cleaned.startswith("@") and len(cleaned.split(" ")) != 5:
        raise ValueError(
            f"cron expression {cleaned!r} needs five fields (minute hour day month weekday), "
            "such as '0 2 * * *'"
        )
    try:
        valid = croniter.is_valid(cleaned)
    except (CroniterBadCronError, CroniterNotAlphaError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            f"cron expression {cleaned!r} is not valid; for example '0 2 * * *' is daily at 02:00"
        )
    return cleaned


def check_time_zone(name: str) -> str:
    """An IANA zone name (``Europe/Paris``, ``UTC``), or ``ValueError`` naming it."""
    cleaned = name.strip()
    try:
        # Only names the zone database lists: ZoneInfo would also open a file path given to it.
        if cleaned not in _zones():
            raise ZoneInfoNotFoundError(cleaned)
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time zone {cleaned!r} is not known; use an IANA name such as 'Europe/Paris' or 'UTC'"
        ) from None
    return cleaned


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def fires_after(expression: str, time_zone: str, after: datetime) -> Iterator[datetime]:
    """The fire times strictly after ``after``, in order, in UTC (an endless iterator)."""
    zone = ZoneInfo(time_zone)
    walker = croniter(expression, after.astimezone(zone))
    while True:
        try:
            moment: datetime = walker.get_next(datetime)
        except CroniterBadDateError:  # an expression that never matches (30 February)
            return
        yield moment.astimezone(UTC)


def fires_until(expression: str, time_zone: str, until: datetime) -> Iterator[datetime]:
    """The fire times at or before ``until``, latest first, in UTC (an endless iterator)."""
    zone = ZoneInfo(time_zone)
    # croniter steps back strictly before its start; a second later includes ``until`` itself
    # (expressions have minutes, never seconds).
    walker = croniter(expression, (until + timedelta(seconds=1)).astimezone(zone))
    while True:
        try:
            moment: datetime = walker.get_prev(datetime)
        except CroniterBadDateError:
            return
        yield moment.astimezone(UTC)


def next_fire(expression: str, time_zone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (UTC), or ``None`` if it never fires again."""
    return next(fires_after(expression, time_zone, after), None)
