"""Structured log lines: ``logfmt`` (default, readable) or one JSON object per line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys


def _logfmt_value(value) -> str:
    text = "" if value is None else str(value)
    if text == "" or any(c in text for c in ' ="\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


class StructuredFormatter(logging.Formatter):
    def __init__(self, style: str = "logfmt"):
        super().__init__()
        self.style_name = style

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}) or {})
        if record.exc_info and record.levelno >= logging.ERROR:
            fields["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        if self.style_name == "json":
            return json.dumps(fields, ensure_ascii=False, default=str)
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in fields.items())


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when it was set up
    (a daemon manager or a test runner may swap the stream after start-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str = "INFO", style: str = "logfmt") -> None:
    handler = CurrentStderrHandler()
    handler.setFormatter(StructuredFormatter(style))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays at warning unless we debug.
    for noisy in ("apscheduler", "httpx", "httpcore", "alembic", "bm25s", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
