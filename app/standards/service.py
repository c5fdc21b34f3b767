"""Rules of concrete standards: versions are written whole and never rewritten."""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.db import advisory_xact_lock
from app.errors import InvalidInput, NotFound
from app.org.enums import MemberCategory, UnitKind
from app.org.models import Unit
from app.org.repository import UnitRepository
from app.pagination import Page, PageParams, paginate_batch
from app.standards import repository as repo
from app.standards.models import StandardItem, StandardVersion
from app.standards.schemas import (
    StandardCreate,
    StandardGroup,
    StandardGroupRead,
    StandardRead,
    StandardTemplateRead,
    StandardVersionRead,
)
from app.standards.templates import TEMPLATES, Template

EVERYONE = "全体党员"

Key = tuple[str | None, str | None]  # (post, category)


def _label(post: str | None, category: str | None) -> str:
    if post is not None:
        return post
    return MemberCategory(category).label if category is not None else EVERYONE


def _grouped(rows: Iterable[tuple[str | None, str | None, str]]) -> list[StandardGroupRead]:
    """(post, category, text) rows in order, as groups in the order they first appear."""
    groups: dict[Key, StandardGroupRead] = {}
    for post, category, text in rows:
        group = groups.get((post, category))
        if group is None:
            group = groups[(post, category)] = StandardGroupRead(
                post=post,
                category=MemberCategory(category) if category else None,
                label=_label(post, category),
                items=[],
            )
        group.items.append(text)
    return list(groups.values())


def template_read(t: Template) -> StandardTemplateRead:
    rows = ((g.post, g.category and g.category.value, text) for g in t.groups for text in g.items)
    return StandardTemplateRead(unit_kind=t.unit_kind, title=t.title, groups=_grouped(rows))


def templates(unit_kind: UnitKind | None) -> list[StandardTemplateRead]:
    return [template_read(t) for kind, t in TEMPLATES.items() if unit_kind in (None, kind)]


def read_unit(session: Session, principal: Principal, unit_id: int) -> Unit:
    unit = UnitRepository(session, principal).get(unit_id)
    if unit is None:
        raise NotFound(f"No unit with id {unit_id}.")
    return unit


def _read(session: Session, found: StandardVersion, latest_version: int) -> StandardRead:
    rows = ((i.post, i.category, i.text) for i in repo.items(session, found.id))
    return StandardRead(
        unit_id=found.unit_id,
        version=found.version,
        latest_version=latest_version,
        from_template=found.from_template,
        note=found.note,
        created_at=found.created_at,
        username=found.username,
        groups=_grouped(rows),
    )


def read_standard(
    session: Session, principal: Principal, unit_id: int, number: int | None
) -> StandardRead:
    """The unit's standard: the newest version, or the one asked for."""
    read_unit(session, principal, unit_id)
    newest = repo.latest(session, unit_id)
    if newest is None:
        raise NotFound(
            f"Unit {unit_id} has no concrete standard yet; start one from a template "
            "(GET /api/v1/standard-templates)."
        )
    found = newest if number is None else repo.version(session, unit_id, number)
    if found is None:
        raise NotFound(f"Unit {unit_id} has no version {number}; its newest is {newest.version}.")
    return _read(session, found, newest.version)


def list_versions(
    session: Session, principal: Principal, unit_id: int, page: PageParams
) -> Page[StandardVersionRead]:
    read_unit(session, principal, unit_id)

    def shape(rows: list[StandardVersion]) -> list[StandardVersionRead]:
        counts = repo.item_counts(session, [v.id for v in rows])
        return [
            StandardVersionRead.model_validate({**v.model_dump(), "items": counts[v.id]})
            for v in rows
        ]

    return paginate_batch(session, repo.versions(unit_id), page, shape)


def _rows(data: StandardCreate) -> list[tuple[str | None, str | None, str]]:
    """The version's items as (post, category, text), in order; one group per post or
    category, so that a reader finds a post's requirements in one place."""
    if data.groups is not None:
        groups = data.groups
    else:
        assert data.from_template is not None
        template = TEMPLATES[data.from_template]
        groups = [
            StandardGroup(post=g.post, category=g.category, items=list(g.items))
            for g in template.groups
        ]
    seen: set[Key] = set()
    rows = []
    for i, g in enumerate(groups):
        key = (g.post, g.category and g.category.value)
        if key in seen:
            raise InvalidInput.at(
                ["body", "groups", i], f"another group is already for {_label(*key)}"
            )
        seen.add(key)
        rows.extend((key[0], key[1], text) for text in g.items)
    return rows


def create_version(
    session: Session, principal: Principal, unit_id: int, data: StandardCreate
) -> tuple[StandardRead, bool]:
    """The new version, and whether it was written now (False: the body is the newest
    version as it stands, so nothing new was written)."""
    unit = read_unit(session, principal, unit_id)
    principal.require(Action.write_standard)
    rows = _rows(data)
    # Two writers of one unit's standard take turns, so that each numbers its version after
    # the other's instead of failing on the unique number.
    advisory_xact_lock(session, f"standard:{unit_id}")
    newest = repo.latest(session, unit_id)
    template = data.from_template and data.from_template.value
    if newest is not None:
        same = [(i.post, i.category, i.text) for i in repo.items(session, newest.id)] == rows
        if same and (newest.from_template, newest.note) == (template, data.note):
            return _read(session, newest, newest.version), False
    number = newest.version + 1 if newest else 1
    version = StandardVersion(
        unit_id=unit_id,
        version=number,
        from_template=template,
        note=data.note,
        created_by=principal.user_id,
        username=principal.username,
    )
    session.add(version)
    session.flush()
    session.add_all(
        StandardItem(version_id=version.id, position=i, post=post, category=category, text=text)
        for i, (post, category, text) in enumerate(rows)
    )
    session.flush()
    audit.record(
        session,
        principal,
        "standard",
        "unit",
        unit_id,
        district_id=unit.district_id,
        after={"version": number, "items": len(rows), "from_template": template},
    )
    return _read(session, version, number), True
