"""Saved versions of ``config/rules.yaml``: every change validated, kept, audited and revertible.

Thresholds get changed under pressure, after an incident, by someone who then goes home. So a
save through here (the CLI, later the dashboard) refuses a file the service would refuse at
start (the rule model, then the cross-file checks naming localities and narratives), keeps the
text verbatim with its comments in ``rule_versions`` (the file as it was too, if it was edited
by hand since the last save), writes the file atomically and records who and why in the audit
log, all or nothing. A revert is a save of an older text: a new version, so history only grows.
The running service reads the rules at start; a save takes effect when it next starts.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError

from alerts.routing import load_alerting
from alerts.rules import RuleFile
from monitor import audit
from monitor.config_files import describe_errors, load_model, parse_yaml
from monitor.errors import ConfigError, StorageError, TensionError
from monitor.localities import LocalityFile
from monitor.narratives import NarrativeLibrary
from monitor.settings import MainConfig, Settings, SourceFile, _environment, cross_check
from monitor.store.schema import rule_versions

ON_DISK = "(file on disk)"


@dataclass(frozen=True)
class RuleVersion:
    id: int
    created_at: dt.datetime
    created_by: str
    reason: str
    yaml: str
    sha256: str


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_rules(text: str, source: Path | str) -> RuleFile:
    """Rules from YAML text; errors as ``source: field.path: message`` like any config file."""
    raw = parse_yaml(text, source)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping of keys to values")
    try:
        return RuleFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(source, exc))) from None


def rules_path(config_path: Path) -> Path:
    config_path = Path(config_path)
    return config_path.parent / load_model(MainConfig, config_path).files.rules


def settings_with(config_path: Path, rule_file: RuleFile) -> Settings:
    """The settings with these rules in place of the rules file, which is not read: a broken
    rules file can still be replaced or reverted. Not cross-checked."""
    config_path = Path(config_path)
    main = load_model(MainConfig, config_path)
    base = config_path.parent
    return Settings(
        config_path=config_path, main=main, environment=_environment(), rules=rule_file,
        localities=load_model(LocalityFile, base / main.files.localities),
        sources=load_model(SourceFile, base / main.files.sources),
        narratives=load_model(NarrativeLibrary, base / main.files.narratives),
        alerting=load_alerting(base / main.files.alerting))


def check_rules(config_path: Path, text: str, source: Path | str | None = None) -> RuleFile:
    """Validate rules text as the service would at start: the rule model, then the references
    to the other config files as they are now. Errors name ``source`` (default the rules file)."""
    target = rules_path(config_path)
    source = source or target
    rule_file = parse_rules(text, source)
    settings = settings_with(config_path, rule_file)
    problems = [p.replace(f"{target}:", f"{source}:", 1) for p in cross_check(settings)
                if p.startswith(f"{target}:")]
    if problems:
        raise ConfigError("\n".join(problems))
    return rule_file


def _changes(before: str, after: RuleFile) -> dict[str, list[str]]:
    """Rule ids added, removed and changed, for the audit record."""
    try:
        old = {r.id: r for r in parse_rules(before, "previous").rules}
    except ConfigError:
        return {"previous_valid": False}
    new = {r.id: r for r in after.rules}
    return {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new)),
            "changed": sorted(i for i in set(old) & set(new) if old[i] != new[i])}


def _write_atomically(path: Path, text: str) -> None:
    """Write a temporary file beside ``path`` and rename it over: readers see old or new, never half."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None


def _insert(conn: sa.Connection, at: dt.datetime, by: str, reason: str, text: str) -> int:
    return conn.execute(sa.insert(rule_versions).values(
        created_at=at, created_by=by, reason=reason, yaml=text, sha256=sha256(text))).inserted_primary_key[0]


def save_rules(config_path: Path, store, new_yaml: str, by: str, reason: str, *,
               now: dt.datetime | None = None, source: Path | str | None = None,
               action: str = "rules.save", detail: dict | None = None) -> RuleVersion:
    """Validate, record and write new rules text; returns the new version. ``source`` names
    the candidate in error messages (default the rules file). Nothing is written on error."""
    if not by.strip() or not reason.strip():
        raise TensionError("saving rules needs who (--by) and why (--reason)")
    now = now or dt.datetime.now(dt.timezone.utc)
    path = rules_path(config_path)
    rule_file = check_rules(config_path, new_yaml, source)
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if current == new_yaml:
        raise TensionError(f"{path} already holds these rules; nothing saved")
    written = False
    try:
        with store.transaction() as conn:
            latest = conn.execute(sa.select(rule_versions.c.id, rule_versions.c.sha256)
                                  .order_by(rule_versions.c.id.desc()).limit(1)).first()
            previous = latest.id if latest is not None else None
            if current and (latest is None or latest.sha256 != sha256(current)):
                previous = _insert(conn, now, ON_DISK, f"{path} as it was before version saved by "
                                   f"{by.strip()} (not saved through tension)", current)
            new_id = _insert(conn, now, by.strip(), reason.strip(), new_yaml)
            audit.record(conn, at=now, actor=by.strip(), action=action, object_type="rules",
                         object_id=str(new_id), detail={
                             "reason": reason.strip(), "file": str(path), "sha256": sha256(new_yaml),
                             "previous_version": previous, **_changes(current, rule_file),
                             **(detail or {})})
            _write_atomically(path, new_yaml)
            written = True
    except StorageError:
        if written:  # the commit failed after the file was replaced: put it back
            _write_atomically(path, current)
        raise
    return RuleVersion(new_id, now, by.strip(), reason.strip(), new_yaml, sha256(new_yaml))


def list_versions(store) -> list[RuleVersion]:
    with store.transaction() as conn:
        return [RuleVersion(**row) for row in conn.execute(
            sa.select(rule_versions).order_by(rule_versions.c.id)).mappings()]


def get_version(store, version_id: int) -> RuleVersion:
    with store.transaction() as conn:
        row = conn.execute(sa.select(rule_versions).where(rule_versions.c.id == version_id)).mappings().first()
    if row is None:
        raise TensionError(f"no rules version {version_id} (`tension rules versions` lists them)")
    return RuleVersion(**row)


def diff(store, a: int, b: int) -> str:
    """Unified diff from version ``a`` to version ``b`` (empty when the texts are the same)."""
    old, new = get_version(store, a), get_version(store, b)
    return "".join(difflib.unified_diff(
        old.yaml.splitlines(keepends=True), new.yaml.splitlines(keepends=True),
        fromfile=f"version {old.id} ({old.created_at:%Y-%m-%d %H:%M} UTC, {old.created_by})",
        tofile=f"version {new.id} ({new.created_at:%Y-%m-%d %H:%M} UTC, {new.created_by})"))


def revert(store, config_path: Path, version_id: int, by: str, reason: str, *,
           now: dt.datetime | None = None) -> RuleVersion:
    """Save an earlier version's text again (validated against today's localities and
    narratives): a new version, audited as a revert."""
    old = get_version(store, version_id)
    return save_rules(config_path, store, old.yaml, by, reason, now=now, source=f"version {version_id}",
                      action="rules.revert", detail={"reverted_to": version_id})
