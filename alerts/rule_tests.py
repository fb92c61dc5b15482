"""Rule unit tests in YAML, like ``promtool test rules``: synthetic data in, expected alerts out.

A test file names the rule files it tests and lists test cases. Each case loads synthetic
aggregates into a fresh in-memory SQLite store, runs evaluation and the alert lifecycle every
``evaluation_interval`` from ``eval_from`` up to the last ``eval_time`` (so ``for`` and
``keep_firing_for`` behave exactly as in service), and at each ``eval_time`` compares the
pending and firing alerts of ``alertname`` with ``exp_alerts``. Thresholds are tuned by people
under pressure after an incident; these tests are how a changed rule is shown to still fire on
the last incident and stay quiet on an ordinary week.

Series values follow promtool: ``"0 0 1 2 12"``, ``"1+2x3"`` (1 3 5 7), ``"5x2"`` (5 5 5) and
``_`` for a window with no row. A value is a whole bucket's count: value ``i`` is the bucket
starting at ``start + i`` windows. While a bucket's window is under way the runner grows it
evenly (value x elapsed fraction, whole posts), as the aggregator would see posts arrive, so a
test exercises the same start-of-window behaviour as the service. Expected labels are matched
as a subset (``alertname`` is implied); every pending or firing alert of that name must match
one expected entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import re
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from alerts.evaluate import COUNTS, WINDOWS, Scope, evaluate_rules
from alerts.lifecycle import apply
from alerts.rules import RuleFile, Window
from monitor.config_files import load_model, parse_duration, require_unique
from monitor.errors import ConfigError
from monitor.localities import ID_PATTERN
from monitor.store import Store
from monitor.store.schema import (
    alerts,
    amplification_bursts,
    cluster_windows,
    locality_windows,
    narrative_clusters,
    narrative_windows,
    post_localities,
    post_scores,
    posts,
    tension_levels,
)
from sources.base import FetchState

_TERM = re.compile(r"^(_|-?\d+(?:\.\d+)?)(?:([+-]\d+(?:\.\d+)?)?x(\d+))?$")
DEFAULT_START = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)  # a Monday, midnight
LEVEL_INDEX = {1: 10.0, 2: 30.0, 3: 50.0, 4: 70.0, 5: 90.0}


def expand(text: str) -> list[float | None]:
    """promtool series notation → one value (or None for ``_``) per window."""
    out: list[float | None] = []
    for term in text.split():
        match = _TERM.match(term)
        if not match:
            raise ValueError(f"{term!r} is not a number, _ , a+bxn or axn")
        first, step, times = match.groups()
        if first == "_":
            if step:
                raise ValueError(f"{term!r}: _ cannot have a step")
            out.extend([None] * (int(times) if times else 1))
        elif times is None:
            out.append(float(first))
        else:
            out.extend(float(first) + float(step or 0) * k for k in range(int(times) + 1))
    return out


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_OFFSET = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_offset(value: object) -> dt.timedelta:
    """Offsets as in promtool, compound allowed: ``28d1h30m``, ``90s``, ``0s``."""
    if isinstance(value, str) and value.strip() and _OFFSET.sub("", value.strip()) == "":
        return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _OFFSET.findall(value)))
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration such as 90s, 15m, 1h30m or 28d1h") from None


Offset = Annotated[dt.timedelta, BeforeValidator(parse_offset)]


def _check(value: str) -> str:
    expand(value)
    return value


Values = Annotated[str, AfterValidator(_check)]


class SeriesInput(Strict):
    locality: str = Field(pattern=ID_PATTERN)
    window: Window = "hour"
    metric: Literal[COUNTS + ("tension_max",)]  # type: ignore[valid-type]
    values: Values


class NarrativeInput(Strict):
    narrative: str
    window: Window = "day"
    localities: dict[str, Values] = Field(min_length=1)
    posts: Values | None = None  # default: the sum over localities


class LevelInput(Strict):
    """Computed tension levels, one value per day from ``start``."""

    locality: str = Field(pattern=ID_PATTERN)
    levels: Values
    index: Values | None = None  # default: the middle of the level's band
    trend: Values | None = None  # default 0


class SourceInput(Strict):
    """A source's fetch state from ``at`` on (later entries for the same source replace it)."""

    source: str
    at: Offset = dt.timedelta(0)
    status: Literal["ok", "failing", "gone", "exhausted"] = "ok"
    consecutive_failures: int = Field(default=0, ge=0)
    last_success: Offset | None = None  # offset from start


class PostInput(Strict):
    """Posts scored for mobilisation, naming a locality (and maybe a sensitive site)."""

    at: Offset
    locality: str = Field(pattern=ID_PATTERN)
    site: str | None = None
    platform: str = "facebook"
    mobilisation: float = Field(ge=0, le=1)
    count: int = Field(default=1, ge=1)


class BurstInput(Strict):
    """A stored amplification burst (monitor.amplification), from ``at`` for ``minutes``."""

    at: Offset
    minutes: int = Field(default=40, ge=0)
    posts: int = Field(ge=1)
    authors: int = Field(ge=1)
    new_authors: int = Field(default=0, ge=0)
    locality: str | None = None
    excerpt: str = "Share this before it's deleted"


class StoryInput(Strict):
    """An emerging-narrative cluster (monitor.emerging) in the day window starting at ``day``."""

    id: str
    day: Offset
    size: int = Field(ge=1)
    reportable: bool = True
    status: Literal["candidate", "promoted", "dismissed"] = "candidate"
    terms: tuple[str, ...] = ("story",)


class ExpectedAlert(Strict):
    labels: dict[str, str] = Field(default_factory=dict)
    state: Literal["pending", "firing"] = "firing"
    annotations: dict[str, str] = Field(default_factory=dict)


class AlertTest(Strict):
    eval_time: Offset
    alertname: str
    exp_alerts: tuple[ExpectedAlert, ...] = ()


class RuleTestCase(Strict):
    name: str
    start: dt.datetime = DEFAULT_START
    evaluation_interval: Offset | None = None
    eval_from: Offset = dt.timedelta(0)
    input_series: tuple[SeriesInput, ...] = ()
    narrative_series: tuple[NarrativeInput, ...] = ()
    tension_levels: tuple[LevelInput, ...] = ()
    sources: tuple[SourceInput, ...] = ()
    posts: tuple[PostInput, ...] = ()
    bursts: tuple[BurstInput, ...] = ()
    stories: tuple[StoryInput, ...] = ()
    alert_rule_test: tuple[AlertTest, ...]

    @field_validator("alert_rule_test")
    @classmethod
    def _some_checks(cls, value: tuple) -> tuple:
        if not value:  # checked here, not by min_length, so an invalid entry is the only error
            raise ValueError("list at least one {eval_time, alertname, exp_alerts} check")
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-16T00:00:00Z")
        return value.astimezone(dt.timezone.utc)


class RuleTestFile(Strict):
    rule_files: tuple[Path, ...] = Field(min_length=1)
    # Main config (relative to this file) giving localities, names and sources; without it the
    # scope is every locality in the data and `area` is the area id.
    config: Path | None = None
    area: str = Field(default="area", pattern=ID_PATTERN)
    evaluation_interval: Offset = dt.timedelta(minutes=1)
    tests: tuple[RuleTestCase, ...]

    @field_validator("tests")
    @classmethod
    def _some_tests(cls, value: tuple) -> tuple:
        if not value:
            raise ValueError("list at least one test")
        return value


@dataclasses.dataclass(frozen=True)
class Result:
    name: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def load(path: Path) -> tuple[RuleTestFile, tuple, Scope]:
    """The test file, the rules it names and the scope; a ConfigError names file and field."""
    spec = load_model(RuleTestFile, path)
    rules = []
    for rule_path in spec.rule_files:
        rules.extend(load_model(RuleFile, path.parent / rule_path).rules)
    try:
        require_unique("rule", [r.id for r in rules])
    except ValueError as exc:
        raise ConfigError(f"{path}: rule_files: {exc}") from None
    if spec.config is None:
        return spec, tuple(rules), Scope(area_id=spec.area)
    from monitor.settings import cross_check, load_settings

    settings = dataclasses.replace(load_settings(path.parent / spec.config),
                                   rules=RuleFile(rules=tuple(rules)))
    problems = cross_check(settings)
    if problems:
        raise ConfigError("\n".join(f"{path}: rule_files: {p}" for p in problems))
    return spec, tuple(rules), Scope.from_settings(settings)


def _rows(case: RuleTestCase, now: dt.datetime) -> dict[str, list[dict]]:
    """The case's synthetic data as table rows."""
    grouped: dict[tuple, dict[str, list]] = {}
    for s in case.input_series:
        grouped.setdefault((s.locality, s.window), {})[s.metric] = expand(s.values)
    windows = []
    for (locality, window), metrics in grouped.items():
        for i in range(max(len(v) for v in metrics.values())):
            got = {m: v[i] for m, v in metrics.items() if i < len(v) and v[i] is not None}
            if not got:
                continue
            row = dict.fromkeys(COUNTS + ("tension_max",), 0) | got
            row.setdefault("posts", 0)
            if "scored" not in got:
                row["scored"] = max(0, row["posts"] - row["unread"])
            if "posts" not in got:
                row["posts"] = row["scored"] + row["unread"]
            windows.append(row | {"locality_id": locality, "window": window, "computed_at": now,
                                  "start": case.start + i * WINDOWS[window]})
    narratives = []
    for n in case.narrative_series:
        places = {loc: expand(v) for loc, v in n.localities.items()}
        total = expand(n.posts) if n.posts else None
        for i in range(max(len(v) for v in [*places.values(), total or []])):
            spread = {loc: int(v[i]) for loc, v in places.items() if i < len(v) and v[i]}
            volume = total[i] if total and i < len(total) else sum(spread.values())
            if volume is not None and (volume or spread):
                narratives.append({"narrative_id": n.narrative, "window": n.window,
                                   "start": case.start + i * WINDOWS[n.window], "posts": int(volume),
                                   "localities": spread, "platforms": {}, "computed_at": now})
    levels = []
    for lv in case.tension_levels:
        index, trend = expand(lv.index or ""), expand(lv.trend or "")
        for i, level in enumerate(expand(lv.levels)):
            if level is not None:
                levels.append({"locality_id": lv.locality, "day": case.start + dt.timedelta(days=i),
                               "level": int(level), "drivers": [], "computed_at": now,
                               "index": index[i] if i < len(index) and index[i] is not None
                               else LEVEL_INDEX.get(int(level), 0.0),
                               "trend": trend[i] if i < len(trend) and trend[i] is not None else 0.0})
    return {"windows": windows, "narratives": narratives, "levels": levels}


def _load_posts(conn: sa.Connection, case: RuleTestCase, now: dt.datetime) -> None:
    for n, p in enumerate(case.posts):
        for j in range(p.count):
            key = f"t{n}-{j}"
            post_id = conn.execute(sa.insert(posts).values(
                source_id="rule-test", external_id=key, platform=p.platform, meta={},
                content_hash=hashlib.sha256(key.encode()).hexdigest(),
                published_at=case.start + p.at, collected_at=case.start + p.at)).inserted_primary_key[0]
            conn.execute(sa.insert(post_scores).values(
                post_id=post_id, status="scored", language="en", model_version="rule-test",
                scored_at=now, hate=0.0, offensive=0.0, conspiracy=0.0, mobilisation=p.mobilisation,
                negativity=0.0, tension=0.0, labels=[], target_groups=[], explanation={}))
            conn.execute(sa.insert(post_localities).values(
                post_id=post_id, locality_id=p.locality, confidence=1.0, site_id=p.site))


def _load_signals(conn: sa.Connection, case: RuleTestCase) -> None:
    """Bursts and emerging-narrative clusters as their stages would have stored them."""
    for n, b in enumerate(case.bursts):
        start = case.start + b.at
        conn.execute(sa.insert(amplification_bursts).values(
            signature=f"{n:032d}", started_at=start, ended_at=start + dt.timedelta(minutes=b.minutes),
            posts=b.posts, authors=b.authors, new_authors=b.new_authors, excerpt=b.excerpt,
            localities={b.locality: b.posts} if b.locality else {}, platforms={"facebook": b.posts},
            detected_at=start))
    for story in case.stories:
        day = case.start + story.day
        exists = conn.scalar(sa.select(narrative_clusters.c.id).where(narrative_clusters.c.id == story.id))
        if exists is None:
            conn.execute(sa.insert(narrative_clusters).values(
                id=story.id, status=story.status, first_seen=day, last_seen=day,
                centroid=b"", terms=list(story.terms), excerpts=[]))
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id=story.id, start=day, window="day", size=story.size, authors=story.size,
            flagged=1.0, reportable=story.reportable, localities={}, platforms={}, computed_at=day))


def _show(state: str, labels: dict[str, str]) -> str:
    return f"{state:8} {{{', '.join(f'{k}={v}' for k, v in sorted(labels.items()))}}}"


def _compare(check: AlertTest, got: list[dict]) -> list[str]:
    """Pair each expected alert with one actual alert; anything unpaired is a difference."""
    left = list(got)
    missing = []
    for exp in check.exp_alerts:
        for row in left:
            if (row["state"] == exp.state and exp.labels.items() <= row["labels"].items()
                    and all(row["annotations"].get(k) == v for k, v in exp.annotations.items())):
                left.remove(row)
                break
        else:
            missing.append(exp)
    if not missing and not left:
        return []
    lines = [f"  expected {_show(e.state, e.labels | {'alertname': check.alertname})}"
             + (f" annotations {e.annotations}" if e.annotations else "") for e in check.exp_alerts]
    lines += [f"  got      {_show(r['state'], r['labels'])}" for r in got] or \
        ["  got      no pending or firing alerts"]
    for exp in missing:
        near = [r for r in got if exp.labels.items() <= r["labels"].items()]
        for row in near:
            for key, want in exp.annotations.items():
                if row["annotations"].get(key) != want:
                    lines.append(f"  annotation {key}: expected {want!r}, "
                                 f"got {row['annotations'].get(key)!r}")
    return lines


class _Accrual:
    """Writes each bucket as the aggregator would: growing evenly through its window (value x
    elapsed fraction, whole posts), complete once the window has passed, absent before."""

    def __init__(self, windows: list[dict], narratives: list[dict]):
        rows = [(locality_windows, r) for r in windows] + [(narrative_windows, r) for r in narratives]
        self.waiting = sorted(rows, key=lambda t: t[1]["start"])
        self.growing: list[tuple] = []  # written partly; rewritten each evaluation

    @staticmethod
    def _scaled(table: sa.Table, row: dict, fraction: float) -> dict:
        if fraction >= 1:
            return row
        def part(value: float) -> int:
            return math.floor(value * fraction + 1e-9)
        out = dict(row, posts=part(row["posts"]))
        if table is narrative_windows:
            out["localities"] = {k: part(v) for k, v in row["localities"].items() if part(v)}
        else:
            out |= {c: row[c] * fraction if c.endswith("_sum") else part(row[c]) for c in COUNTS}
        return out

    def advance(self, conn: sa.Connection, now: dt.datetime) -> None:
        for table, row in self.growing:
            conn.execute(sa.delete(table).where(*(c == row[c.name] for c in table.primary_key.columns)))
        due = self.growing
        while self.waiting and self.waiting[0][1]["start"] <= now:
            due.append(self.waiting.pop(0))
        self.growing, complete = [], {locality_windows: [], narrative_windows: []}
        for table, row in due:
            fraction = (now - row["start"]) / WINDOWS[row["window"]]
            complete[table].append(self._scaled(table, row, fraction))
            if fraction < 1:
                self.growing.append((table, row))
        for table, rows in complete.items():
            if rows:
                conn.execute(sa.insert(table), rows)


def run_case(case: RuleTestCase, rules: tuple, scope: Scope, interval: dt.timedelta) -> Result:
    store = Store.open("sqlite://")
    try:
        data = _rows(case, case.start)
        with store.transaction() as conn:
            if data["levels"]:
                conn.execute(sa.insert(tension_levels), data["levels"])
            _load_posts(conn, case, case.start)
            _load_signals(conn, case)
        buckets = _Accrual(data["windows"], data["narratives"])
        step = case.evaluation_interval or interval
        checks = sorted(case.alert_rule_test, key=lambda c: c.eval_time)
        times = {c.eval_time for c in checks}
        t = case.eval_from
        while t <= checks[-1].eval_time:
            times.add(t)
            t += step
        sources = sorted(case.sources, key=lambda s: s.at)
        failures = []
        for t in sorted(x for x in times if x >= case.eval_from):
            now = case.start + t
            for s in [s for s in sources if s.at <= t]:
                sources.remove(s)
                store.save_state(FetchState(
                    s.source, status=s.status, consecutive_failures=s.consecutive_failures,
                    last_success_at=case.start + s.last_success if s.last_success is not None else None))
            with store.transaction() as conn:
                buckets.advance(conn, now)
            apply(store, evaluate_rules(store, scope, rules, now), rules, now)
            for check in (c for c in checks if c.eval_time == t):
                with store.transaction() as conn:
                    got = [dict(r) for r in conn.execute(sa.select(alerts).where(
                        alerts.c.rule_id == check.alertname,
                        alerts.c.state.in_(("pending", "firing")))).mappings()]
                diff = _compare(check, got)
                if diff:
                    failures.append(f"at {_when(t)}, {check.alertname}:")
                    failures.extend(diff)
        return Result(case.name, tuple(failures))
    finally:
        store.close()


def _when(t: dt.timedelta) -> str:
    days, seconds = t.days, t.seconds
    parts = [f"{days}d" if days else "", f"{seconds // 3600}h" if seconds >= 3600 else "",
             f"{seconds % 3600 // 60}m" if seconds % 3600 else ""]
    return "".join(parts) or "0m"


def run_file(path: Path) -> list[Result]:
    """Every test case in one file; a bad file raises ConfigError naming file and field."""
    spec, rules, scope = load(Path(path))
    known = {r.id for r in rules}
    for i, case in enumerate(spec.tests):
        for j, check in enumerate(case.alert_rule_test):
            if check.alertname not in known:
                raise ConfigError(f"{path}: tests[{i}].alert_rule_test[{j}].alertname: no rule "
                                  f"{check.alertname!r} in the rule files")
    return [run_case(case, rules, scope, spec.evaluation_interval) for case in spec.tests]
