"""Time in the campaign's own terms: instants are UTC, a day is a day in Asia/Shanghai."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(CAMPAIGN_TZ).date()
