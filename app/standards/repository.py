"""Queries of standards. The unit is reached through the caller's scope first (service), so
these take a unit id the caller may see."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.standards.models import StandardItem, StandardVersion


def latest(session: Session, unit_id: int) -> StandardVersion | None:
    return session.scalar(
        sa.select(StandardVersion)
        .where(StandardVersion.unit_id == unit_id)
        .order_by(StandardVersion.version.desc())
        .limit(1)
    )


def version(session: Session, unit_id: int, number: int) -> StandardVersion | None:
    return session.scalar(
        sa.select(StandardVersion).where(
            StandardVersion.unit_id == unit_id, StandardVersion.version == number
        )
    )


def items(session: Session, version_id: int) -> list[StandardItem]:
    return list(
        session.scalars(
            sa.select(StandardItem)
            .where(StandardItem.version_id == version_id)
            .order_by(StandardItem.position)
        )
    )


def versions(unit_id: int) -> sa.Select[tuple[StandardVersion]]:
    """The unit's versions, newest first."""
    return (
        sa.select(StandardVersion)
        .where(StandardVersion.unit_id == unit_id)
        .order_by(StandardVersion.version.desc())
    )


def item_counts(session: Session, version_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        sa.select(StandardItem.version_id, sa.func.count())
        .where(StandardItem.version_id.in_(version_ids))
        .group_by(StandardItem.version_id)
    )
    return dict.fromkeys(version_ids, 0) | dict(rows.all())
