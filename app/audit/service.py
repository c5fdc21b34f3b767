"""Writing audit rows: called by every service that changes something, in its transaction."""

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from app import bulk
from app.audit.models import AuditEntry
from app.audit.repository import AuditFilter, search
from app.audit.schemas import AuditEntryRead
from app.auth.principal import Action, Principal
from app.clock import utcnow
from app.pagination import Page, PageParams, paginate
from app.privacy import mask_fields
from app.request_context import current_request_id


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The given fields of an object, as JSON values."""
    return {f: to_jsonable_python(getattr(obj, f)) for f in fields}


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    entity: str,
    entity_id: int | str | None,
    *,
    district_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    username: str | None = None,
    also_district_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Adds an audit row for a change, keeping only the fields that changed.

    An update that changes nothing writes no row: a write repeated by a retrying phone
    leaves the log as it was. Personal data is masked, whoever reads the log later.
    ``principal`` is None for an anonymous actor (a failed login), named by ``username``.
    A move between districts (``also_district_id``: where the object was) is written once
    for each district, so that both district admins read it.
    ``context`` says what inside the entity changed (the batch of a branch's evaluations): it
    is kept on each side given, although it is the same on both.
    """
    if before is not None and after is not None:
        changed = [k for k in after if before.get(k) != after[k]]
        if not changed and action == "update":
            return
        before = {k: before.get(k) for k in changed}
        after = {k: after[k] for k in changed}
    if context:
        before = None if before is None else {**context, **before}
        after = None if after is None else {**context, **after}
    entry = {
        "at": utcnow(),
        "user_id": principal.user_id if principal else None,
        "username": principal.username if principal else (username or "anonymous"),
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "district_id": district_id,
        "request_id": current_request_id.get(),
        "before": None if before is None else mask_fields(to_jsonable_python(before)),
        "after": None if after is None else mask_fields(to_jsonable_python(after)),
    }
    entries = [entry]
    if also_district_id is not None and also_district_id != district_id:
        entries.append({**entry, "district_id": also_district_id})
    # A Core insert, now, rather than an ORM object flushed at commit: every write pays
    # for its entry, and the unit of work's bookkeeping cost more than the insert itself.
    bulk.connection(session).execute(sa.insert(AuditEntry.__table__), entries)


def created(
    session: Session,
    principal: Principal,
    entity: str,
    obj: Any,
    fields: Iterable[str],
    *,
    district_id: int | None,
) -> None:
    """The audit row of a new object: its fields as created."""
    after = snapshot(obj, fields)
    record(session, principal, "create", entity, obj.id, district_id=district_id, after=after)


def list_entries(
    session: Session, principal: Principal, f: AuditFilter, page: PageParams
) -> Page[AuditEntryRead]:
    principal.require(Action.read_audit)
    return paginate(session, search(principal, f), page, AuditEntryRead.model_validate)
