"""Logging setup. Personal data must never reach a log, so what could carry it is trimmed."""

import logging

from app.config import get_settings


class DropQueryString(logging.Filter):
    """Uvicorn's access log line without the query string: a search box (``?q=``) is where
    someone pastes an ID number or a phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def configure_logging() -> None:
    level = get_settings().log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("uvicorn.access").addFilter(DropQueryString())
    # SQLAlchemy logs result rows at DEBUG, and hide_parameters cannot hide those.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
