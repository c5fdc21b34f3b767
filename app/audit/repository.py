from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Principal, Role


def audit_condition(p: Principal) -> sa.ColumnElement[bool]:
    # District admins read what happened in their district; only the city reads city-wide
    # entries (districts created, city accounts, failed logins for unknown usernames).
    if p.role is Role.city_admin:
        return sa.true()
    if p.role is Role.district_admin:
        return AuditEntry.district_id == p.district_id
    return sa.false()


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    user_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(principal: Principal, f: AuditFilter) -> sa.Select[tuple[AuditEntry]]:
    stmt = sa.select(AuditEntry).where(audit_condition(principal))
    for column, value in (
        (AuditEntry.entity, f.entity),
        (AuditEntry.entity_id, f.entity_id),
        (AuditEntry.user_id, f.user_id),
        (AuditEntry.action, f.action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < f.until)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
