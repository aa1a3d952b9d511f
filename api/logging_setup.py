"""Logging of ``smsauth serve`` and ``smsauth worker``: one JSON object (or text line) per record.

Every line has ``time``, ``level``, ``logger`` and ``message``, plus ``request_id`` within a
request and any ``extra`` fields of the record (``message_id``, ``gateway_id``, ...). uvicorn's
own error and access logs go through the same handler. Libraries that print secrets at DEBUG
(SQL with bound values, WebSocket frames with tokens and codes) never log below INFO, and
uvicorn's request paths lose their query strings (webhook tokens, GraphQL GET variables).
"""

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from api.request_id import RequestIdFilter

FORMATS = ("json", "text")
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
#: At DEBUG these print SQL with its bound values, WebSocket frames or request bodies.
AT_LEAST_INFO = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "websockets",
    "tortoise.db_client",
    "aiosqlite",
    "asyncpg",
    "python_multipart",
    "multipart",
    "httpx",
    "httpcore",
)


def _utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(BaseJsonFormatter):
    """python-json-logger's formatter with smsauth's field names and UTC ISO 8601 times."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's ANSI-coloured copy
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in log_data.items() if value is not None}


class TextFormatter(logging.Formatter):
    """One readable line: time, level, logger, [request ID], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


class NoQueryStrings(logging.Filter):
    """uvicorn logs request paths with their query strings: keep the path only. Access records
    also get ``client``, ``method``, ``path`` and ``status_code`` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("uvicorn") or not isinstance(record.args, tuple):
            return True
        record.args = tuple(_path_only(arg) for arg in record.args)
        if record.name == "uvicorn.access" and len(record.args) == 5:
            record.client, record.method, record.path, _, record.status_code = record.args
        return True


def _path_only(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("/"):
        return value.split("?", 1)[0]
    return value


def stderr_handler() -> logging.Handler:
    """The one handler; Python warnings are routed into the log too (one format for all)."""
    logging.captureWarnings(True)
    return logging.StreamHandler()


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary (uvicorn's ``log_config`` takes it too)."""
    if log_format not in FORMATS:
        raise ValueError(f"SMSAUTH_LOG_FORMAT must be one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise ValueError(f"SMSAUTH_LOG_LEVEL must be one of {', '.join(LEVELS)}")
    formatter = {"()": JsonFormatter if log_format == "json" else TextFormatter}
    floor = logging.getLevelName(max(LEVELS[level], logging.INFO))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "no_query": {"()": NoQueryStrings},
        },
        # uvicorn expects formatters named "default" and "access".
        "formatters": {"default": formatter, "access": formatter},
        "handlers": {
            "default": {
                "()": stderr_handler,
                "formatter": "default",
                "filters": ["request_id", "no_query"],
            }
        },
        "loggers": {
            name: {"level": floor, "handlers": [], "propagate": True} for name in AT_LEAST_INFO
        },
        "root": {"level": logging.getLevelName(LEVELS[level]), "handlers": ["default"]},
    }


def uvicorn_level(level: str) -> str:
    """uvicorn's own loggers never below INFO: at DEBUG they print WebSocket frames."""
    return "info" if level == "debug" else level


def configure(log_format: str, level: str) -> None:
    """Set up logging for a process that does not run uvicorn (``smsauth worker``)."""
    logging.config.dictConfig(log_config(log_format, level))
