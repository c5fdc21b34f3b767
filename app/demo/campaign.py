"""The demo's campaign: batch 1 with dated windows, every demo unit enrolled and studying.

Windows are set around the day the demo is written, so that the study phase is running
when one looks at it: started 45 days ago, ending in 15 days, so that a branch can already
have been idle for over 30 days; evaluation and rectification follow, 30 days each.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.campaign.enums import Phase, UnitState
from app.campaign.schemas import DEFAULT_COVERAGE, DEFAULT_STUDY_HOURS
from app.clock import CAMPAIGN_TZ
from app.models import metadata

CAMPAIGN_NAME = "保持共产党员先进性教育活动"
# (phase, first day relative to the demo's day, length in days)
WINDOWS = ((Phase.study, -45, 61), (Phase.evaluation, 16, 30), (Phase.rectification, 46, 30))


@dataclass(frozen=True)
class DemoCampaign:
    """What the study step needs of the campaign just written."""

    batch_id: int
    study_starts_on: date
    today: date  # the demo's day in Asia/Shanghai: nothing is held after it


def seed_campaign(conn: sa.Connection, unit_ids: list[int], now: datetime) -> DemoCampaign:
    """Writes the campaign, batch 1 and each unit's enrolment in study, with its first move."""
    t = metadata.tables
    day = now.astimezone(CAMPAIGN_TZ).date()
    campaign_id = conn.execute(
        sa.insert(t["campaign"]).values(name=CAMPAIGN_NAME, created_at=now, updated_at=now)
    ).inserted_primary_key[0]
    batch_id = conn.execute(
        sa.insert(t["batch"]).values(
            campaign_id=campaign_id, number=1, name="第一批", created_at=now, updated_at=now
        )
    ).inserted_primary_key[0]
    conn.execute(
        sa.insert(t["batch_phase"]),
        [
            {
                "batch_id": batch_id,
                "phase": phase.value,
                "starts_on": day + timedelta(days=offset),
                "ends_on": day + timedelta(days=offset + length - 1),
                "min_hours": DEFAULT_STUDY_HOURS if phase is Phase.study else Decimal(0),
                "min_coverage": DEFAULT_COVERAGE,
            }
            for phase, offset, length in WINDOWS
        ],
    )
    entered = datetime.combine(
        day + timedelta(days=WINDOWS[0][1]), datetime.min.time(), CAMPAIGN_TZ
    )
    progress = [
        {"unit_id": u, "batch_id": batch_id, "state": UnitState.study.value, "version": 0}
        for u in unit_ids
    ]
    conn.execute(sa.insert(t["unit_progress"]).values(entered_at=entered), progress)
    moves = [
        {
            "unit_id": u,
            "batch_id": batch_id,
            "from_state": UnitState.not_started.value,
            "to_state": UnitState.study.value,
            "username": "system",
        }
        for u in unit_ids
    ]
    conn.execute(sa.insert(t["phase_move"]).values(at=entered), moves)
    return DemoCampaign(batch_id, day + timedelta(days=WINDOWS[0][1]), day)
