"""Logging setup. Personal data must never reach a log, so what could carry it is trimmed."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from app.config import get_settings
from app.request_context import current_request_id


class DropQueryString(logging.Filter):
    """Uvicorn's access log line without the query string: a search box (``?q=``) is where
    someone pastes an ID number or a phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


# What every LogRecord carries; anything else on a record was passed in ``extra``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id of the request
    being served, and the record's ``extra`` fields (the access line's route, status...)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = current_request_id.get()
        if rid is not None:
            line["request_id"] = rid
        line.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging() -> None:
    """JSON lines on stderr, uvicorn's own included. Uvicorn's access line is switched off:
    it shows the raw path (ids, ?q=); app.access logs each request by its route instead."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=get_settings().log_level.upper(), handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.addFilter(DropQueryString())
    access.disabled = True
    # SQLAlchemy logs result rows at DEBUG, and hide_parameters cannot hide those.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
