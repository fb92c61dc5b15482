"""Reading YAML config files and turning validation failures into `file: field: message` lines.

Every config error a user can make ends up as a ``ConfigError`` whose text names the file, the
field path and a hint, e.g.::

    config/sources.yaml: sources[2].url: Input should be a valid URL (hint: a full http(s):// address)
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, PlainSerializer, ValidationError

from monitor.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)

_HINTS = {
    "extra_forbidden": "unknown key: check its spelling against the commented defaults in config/",
    "missing": "this field is required",
    "literal_error": "use one of the values listed",
    "enum": "use one of the values listed",
    "url_parsing": "a full http(s):// address",
    "url_scheme": "a full http(s):// address",
    "int_parsing": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "datetime_parsing": "an ISO 8601 date-time such as 2026-11-20T18:00:00Z",
    "date_from_datetime_parsing": "an ISO date such as 2024-07-29",
    "date_parsing": "an ISO date such as 2024-07-29",
    "union_tag_invalid": "`kind` must be one of the registered kinds",
    "union_tag_not_found": "add a `kind` field",
}


def read_config_text(path: Path) -> str:
    """One config file's text; a missing or unreadable file, or bytes that are not UTF-8,
    become a one-line ConfigError naming the file (and the line and byte)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (hint: check the path in the main config)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = raw.count(b"\n", 0, exc.start) + 1, exc.start - raw.rfind(b"\n", 0, exc.start)
        raise ConfigError(f"{path}: line {line}, byte {column}: not valid UTF-8 "
                          "(hint: save the file as UTF-8)") from None


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; a missing, unreadable or malformed file (bytes that are not UTF-8
    included) becomes a one-line ConfigError."""
    return parse_yaml(read_config_text(path), path)


def parse_yaml(text: str, source: Path | str) -> Any:
    """YAML text parsed; what PyYAML refuses or cannot build is a one-line ConfigError naming
    ``source`` (and the line and column where PyYAML says)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: {where}invalid YAML: {' '.join(problem.split())}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a tagged or date-like value PyYAML cannot build
        raise ConfigError(f"{source}: invalid YAML value: {' '.join(str(exc).split())} "
                          "(hint: quote it if it is meant as text)") from None


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_errors(path: Path | str, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        # Discriminated unions keep the kind in the path (sources[0].rss.url), which tells the
        # user which kind's fields were expected; validator wrappers add noise we drop.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = item["msg"]
        hint = _HINTS.get(item["type"])
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        line = f"{path}: {field_path(loc)}: {message}"
        if hint and hint not in message:
            line += f" (hint: {hint})"
        lines.append(line)
    return lines


def load_model(model: type[Model], path: Path, *, context: dict | None = None) -> Model:
    """Read ``path`` and validate it as ``model``; errors name the file and field."""
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys to values")
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(path, exc))) from None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> dt.timedelta:
    """Accept ``90s``, ``15m``, ``1h``, ``28d``, ``1w``, a number of seconds or a timedelta."""
    if isinstance(value, dt.timedelta):
        return value
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds is None or seconds != seconds:  # nothing matched, or NaN
        raise ValueError(f"{value!r} is not a duration such as 90s, 15m, 1h or 28d")
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:  # past timedelta's 999,999,999 days
        raise ValueError(f"{value!r} is far too long for a duration (hint: at most a few years)") from None


def _format_duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration, return_type=str),
]


def require_unique(kind: str, ids: list[str]) -> None:
    """Raise a validation error naming every id that appears more than once."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{kind} ids must be unique; repeated: {', '.join(repeated)}")
