"""Personal data (ID numbers, phones): shown masked to everyone but city admins."""

from typing import Any

# Fields holding personal data, wherever they appear (member answers, audit rows, exports).
PERSONAL_FIELDS = frozenset({"id_number", "phone"})


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value: str | None) -> str | None:
    """``110105194912310021`` → ``110***********0021``: the region and the last four stay."""
    return None if value is None else _mask(value, 3, 4)


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    return None if value is None else _mask(value, 3, 4)


_MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def mask_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with its personal fields masked."""
    return {k: _MASKS[k](v) if k in _MASKS and isinstance(v, str) else v for k, v in data.items()}
