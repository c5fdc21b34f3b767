"""Registry objects for arranging tests, written straight to the database."""

import itertools
from datetime import date

from sqlmodel import Session

from app.org.models import Branch, District, Member, Unit
from app.org.validators import id_number_check_digit

_serial = itertools.count(1)


def _n() -> int:
    return next(_serial)


def district(session: Session, **over) -> District:
    n = _n()
    obj = District(**{"code": f"D{n:05d}", "name": f"测试区{n}", **over})
    session.add(obj)
    session.commit()
    return obj


def unit(session: Session, district_id: int | None = None, **over) -> Unit:
    n = _n()
    district_id = district_id or district(session).id
    obj = Unit(
        **{
            "code": f"U{n:06d}",
            "name": f"测试单位{n}",
            "district_id": district_id,
            "kind": "organ",
            **over,
        }
    )
    session.add(obj)
    session.commit()
    return obj


def branch(session: Session, unit_id: int | None = None, **over) -> Branch:
    n = _n()
    unit_id = unit_id or unit(session).id
    obj = Branch(**{"code": f"B{n:07d}", "name": f"测试支部{n}", "unit_id": unit_id, **over})
    session.add(obj)
    session.commit()
    return obj


def member(session: Session, branch_id: int | None = None, categories=(), **over) -> Member:
    n = _n()
    branch_id = branch_id or branch(session).id
    obj = Member(**{"name": f"党员{n}", "gender": "male", "branch_id": branch_id, **over})
    obj.set_categories(set(categories))
    session.add(obj)
    session.commit()
    return obj


def id_number(
    birth: date = date(1970, 1, 1), serial: int | None = None, region: str = "370102"
) -> str:
    """A valid 18-character ID number; odd serials are men."""
    first17 = f"{region}{birth:%Y%m%d}{(serial if serial is not None else _n()) % 1000:03d}"
    return first17 + id_number_check_digit(first17)
