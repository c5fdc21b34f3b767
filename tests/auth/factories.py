"""Users and tokens for tests: tokens are minted directly, so only login tests pay for Argon2."""

import itertools
from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth.models import InspectorUnit, User
from app.auth.passwords import hash_password
from app.auth.principal import Role
from app.auth.tokens import issue_token, signing_key

PASSWORD = "correct horse battery"
_serial = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def user(
    session: Session,
    role: Role | str = Role.city_admin,
    *,
    district_id: int | None = None,
    unit_id: int | None = None,
    branch_id: int | None = None,
    unit_ids: tuple[int, ...] = (),
    **over,
) -> User:
    n = next(_serial)
    role = Role(role)
    obj = User(
        username=over.pop("username", f"{role.value}{n}"),
        display_name=over.pop("display_name", f"测试用户{n}"),
        role=role.value,
        district_id=district_id,
        unit_id=unit_id,
        branch_id=branch_id,
        password_hash=_password_hash(),
        **over,
    )
    session.add(obj)
    session.flush()
    session.add_all(InspectorUnit(user_id=obj.id, unit_id=u) for u in unit_ids)
    session.commit()
    return obj


def bearer(engine: Engine, u: User) -> dict[str, str]:
    token, _ = issue_token(u.id, u.token_version, signing_key(engine))
    return {"Authorization": f"Bearer {token}"}
