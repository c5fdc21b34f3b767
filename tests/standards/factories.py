"""Standards for arranging tests, written straight to the database."""

from sqlmodel import Session

from app.standards.models import StandardItem, StandardVersion


def standard(
    session: Session, unit_id: int, items: tuple[str, ...] = ("坚定理想信念",), version: int = 1
) -> StandardVersion:
    """A version of the unit's standard whose items are for every member."""
    v = StandardVersion(unit_id=unit_id, version=version, username="test")
    session.add(v)
    session.flush()
    session.add_all(
        StandardItem(version_id=v.id, position=i, text=text) for i, text in enumerate(items)
    )
    session.commit()
    return v
