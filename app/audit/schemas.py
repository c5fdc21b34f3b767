from datetime import datetime
from typing import Any

from app.schemas import ReadSchema


class AuditEntryRead(ReadSchema):
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: str | None
    district_id: int | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
