"""Log lines: JSON objects, one a line, or plain text for a person at a terminal.

Every logger (the app's, uvicorn's error log, SQLAlchemy's) goes through one handler on
the root logger with one formatter. uvicorn's access log is off: the app writes its own
access line per request (`vouch.access`, from `app/middleware.py`), which names the
route template and never the raw path, query string, headers or body, so no password,
token or cookie can reach the log through it.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

ACCESS_LOGGER = "vouch.access"
# Libraries whose INFO lines name whole URLs (a webhook's may hold its secret).
QUIET_AT_INFO = ("httpx", "httpcore")

# The attributes every LogRecord has; anything else on a record was passed as `extra`.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...extra fields, "exception"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def resolve_format(log_format: Literal["auto", "json", "text"]) -> Literal["json", "text"]:
    """`auto`: text when standard error is a terminal, JSON otherwise."""
    if log_format != "auto":
        return log_format
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(level: str, log_format: Literal["auto", "json", "text"]) -> None:
    """Send every logger's records to standard error through one formatter; called by
    `vouch serve` (in each worker process) and `vouch worker` before anything logs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if resolve_format(log_format) == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's loggers write through the root handler, and its access log not at all.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = name != "uvicorn.access"
    # httpx logs every request's full URL at INFO: a webhook's URL may carry its secret.
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
