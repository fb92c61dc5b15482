"""Rule evaluation: the aggregates in the store at ``now`` → one candidate per rule and place.

This is the Prometheus rule-evaluation half of the alert path: it decides *whether* each
condition holds and says why, in numbers; ``alerts.lifecycle`` turns candidates into
pending/firing/resolved alerts. Nothing here writes to the store.

Windows. A rule with ``window: hour`` reads the bucket containing ``now`` plus the one before
it ("since 13:00" at 14:20). Reading only the current bucket would make every share and count
dip at the start of each hour (three posts at 14:01 say nothing); reading only the last
complete bucket would make alerts up to an hour late. Day windows work the same way ("since
yesterday 00:00"). Buckets are found by their start falling in (now - 2 windows, now], so day
buckets aligned to UTC or to local midnight are both read. Baselines compare like with like:
a past slot counts its previous bucket plus the fraction of its current bucket elapsed now.

Privacy. Labels and annotations carry ids, place names, counts and shares only: never a
handle, a pseudonym, a post's text, id or link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from monitor.store.schema import locality_windows, narrative_windows, tension_levels

_SLACK = dt.timedelta(hours=2)
WINDOWS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
COUNTS = ("posts", "scored", "unread", "hate", "offensive", "conspiracy", "narrative",
          "mobilisation", "sites", "reports", "authors", "negativity_sum", "tension_sum")
# X's Developer Agreement (restricted use cases) forbids using X content for sensitive events
# (protests, rallies, community organising) without X's written approval. X posts may count in
# aggregate trends, but never in anything about a call to gather or a sensitive site: the
# mobilisation rule and the mobilisation_posts metric read posts and leave these platforms out.
EXCLUDED_FROM_MOBILISATION = ("x", "twitter")
# A post counts towards the mobilisation_posts threshold metric at this head score.
MOBILISATION_POST_SCORE = 0.5
ANOMALY_COUNTS = {"posts": "posts", "hate_posts": "hate", "offensive_posts": "offensive",
                  "conspiracy_posts": "conspiracy", "reports": "reports"}
SHARES = {"hate_share": "hate share", "offensive_share": "offensive share",
          "conspiracy_share": "conspiracy share"}


@dataclass(frozen=True)
class Candidate:
    """One rule's verdict for one label set at one evaluation."""

    rule_id: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float | None
    active: bool


@dataclass(frozen=True)
class Scope:
    """What rules are evaluated over: from Settings in the service, from a test file in rule
    tests. ``localities``/``sources`` None means every one found in the store."""

    area_id: str
    localities: tuple[str, ...] | None = None
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)  # place/site id → name
    narratives: Mapping[str, str] = dataclasses.field(default_factory=dict)  # id → title
    untracked_narratives: frozenset[str] = frozenset()  # library entries marked true
    sources: tuple[str, ...] | None = None
    dashboard_url: str = "http://127.0.0.1:8080"
    timezone: str = "Europe/London"

    @classmethod
    def from_settings(cls, settings) -> Scope:
        places, library = settings.localities, settings.narratives.narratives
        return cls(
            area_id=places.area.id,
            localities=tuple(loc.id for loc in places.localities),
            names={places.area.id: places.area.name, **{loc.id: loc.name for loc in places.localities},
                   **{site.id: site.name for site in places.sensitive_sites}},
            narratives={n.id: n.title for n in library},
            untracked_narratives=frozenset(n.id for n in library if n.status == "true"),
            sources=tuple(s.id for s in settings.sources.sources if s.enabled),
            dashboard_url=settings.main.dashboard_url,
            timezone=settings.main.timezone,
        )

    def name(self, place_id: str) -> str:
        return self.names.get(place_id, place_id)

    def places(self, rule, seen=(), *, include_area: bool = False) -> list[str]:
        """The localities a rule covers: configured ones (or those in the data), narrowed by
        the rule's own list, plus the area when asked."""
        known = self.localities if self.localities is not None else sorted(set(seen) - {self.area_id})
        if rule.localities != "all":
            known = [loc for loc in known if loc in rule.localities] if self.localities is not None \
                else list(rule.localities)
        return list(known) + ([self.area_id] if include_area else [])


@dataclass(frozen=True)
class Span:
    """The two buckets a rule reads at ``now``."""

    window: str
    now: dt.datetime
    current: dt.datetime  # start of the bucket containing now
    tz: ZoneInfo

    @property
    def length(self) -> dt.timedelta:
        return WINDOWS[self.window]

    @property
    def previous(self) -> dt.datetime:
        return self.current - self.length

    @property
    def elapsed(self) -> float:
        return min(1.0, max(0.0, (self.now - self.current) / self.length))

    def index(self, start: dt.datetime) -> int:
        """A bucket's number: hours since the epoch, or the local date (robust to DST)."""
        if self.window == "hour":
            return int(start.timestamp() // 3600)
        return start.astimezone(self.tz).date().toordinal()

    @property
    def per_week(self) -> int:
        return 168 if self.window == "hour" else 7

    def since(self) -> str:
        local = self.previous.astimezone(self.tz)
        return f"since {local:%H:%M}" if self.window == "hour" else f"since {local:%a %d %b}"

    def text(self) -> str:
        start, end = self.previous.astimezone(self.tz), self.now.astimezone(self.tz)
        return f"{start:%a %d %b %H:%M} to {end:%a %d %b %H:%M} {self.tz.key}"


def span_at(window: str, now: dt.datetime, tz: ZoneInfo) -> Span:
    if window == "hour":
        start = now.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    else:
        start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return Span(window, now, start.astimezone(dt.timezone.utc), tz)


class Evaluation:
    """One evaluation pass: a read transaction, the scope and per-pass caches."""

    def __init__(self, conn: sa.Connection, scope: Scope, now: dt.datetime):
        self.conn, self.scope, self.now = conn, scope, now
        self.tz = ZoneInfo(scope.timezone)
        self._cache: dict[tuple, object] = {}

    def _cached(self, key: tuple, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def span(self, window: str) -> Span:
        return span_at(window, self.now, self.tz)

    def recent(self, window: str) -> dict[str, tuple[dict, dict]]:
        """locality → (previous bucket counts, current bucket counts)."""
        def load():
            length = WINDOWS[window]
            out: dict[str, tuple[dict, dict]] = {}
            for row in self.conn.execute(sa.select(locality_windows).where(
                    locality_windows.c.window == window, locality_windows.c.start <= self.now,
                    locality_windows.c.start > self.now - 2 * length)).mappings():
                pair = out.setdefault(row["locality_id"], (dict.fromkeys(COUNTS, 0.0),
                                                           dict.fromkeys(COUNTS, 0.0)))
                bucket = pair[1] if row["start"] > self.now - length else pair[0]
                for column in COUNTS:
                    bucket[column] += row[column] or 0
            return out
        return self._cached(("recent", window), load)

    def window_counts(self, window: str, place: str) -> dict[str, float]:
        """Both buckets added up (a copy: callers may add derived metrics)."""
        def load():
            return {place: {c: previous[c] + current[c] for c in COUNTS}
                    for place, (previous, current) in self.recent(window).items()}
        return dict(self._cached(("sums", window), load).get(place) or dict.fromkeys(COUNTS, 0.0))

    def series(self, span: Span, place: str, history: dt.timedelta, *, weekly: bool) -> Series:
        """The place's past buckets (excluding the two being read) as a baseline series;
        ``weekly`` loads only the slots at the same time of earlier weeks."""
        first = self._cached(("first", span.window), lambda: self.conn.scalar(
            sa.select(sa.func.min(locality_windows.c.start)).where(
                locality_windows.c.window == span.window)))
        t = locality_windows.c
        when = t.start >= span.current - history - span.length
        if weekly:  # the slack covers day buckets shifted an hour by a clock change
            when = sa.or_(*(t.start.between(at - span.length - _SLACK, at + _SLACK) for at in (
                span.current - k * dt.timedelta(weeks=1) for k in range(1, history.days // 7 + 1))))
        rows = self.conn.execute(sa.select(t.start, *(t[c] for c in COUNTS)).where(
            t.window == span.window, t.locality_id == place, t.start < span.previous, when)).mappings()
        by_index = {span.index(row["start"]): row for row in rows}
        first_index = span.index(first) if first is not None else span.index(span.now) + 1
        return Series(span, by_index, max(first_index + 1, span.index(span.current) -
                                          history // span.length))

    def narrative_rows(self, window: str) -> list:
        return self._cached(("narratives", window), lambda: list(self.conn.execute(
            sa.select(narrative_windows).where(
                narrative_windows.c.window == window, narrative_windows.c.start <= self.now,
                narrative_windows.c.start > self.now - 2 * WINDOWS[window])).mappings()))

    def narratives_in(self, window: str, place: str) -> str:
        """Narratives seen in a place within the window, largest first: "Title (n)"."""
        totals: dict[str, int] = defaultdict(int)
        for row in self.narrative_rows(window):
            totals[row["narrative_id"]] += row["posts"] if place == self.scope.area_id \
                else int((row["localities"] or {}).get(place, 0))
        ranked = sorted((-n, nid) for nid, n in totals.items() if n > 0)
        return ", ".join(f"{self.scope.narratives.get(nid, nid)} ({-n})" for n, nid in ranked[:5])

    def tension_today(self) -> dict[str, dict]:
        """locality → today's computed level (the newest day starting in the last 24 hours)."""
        return self._cached(("levels",), lambda: {row["locality_id"]: row for row in self.conn.execute(
            sa.select(tension_levels).where(tension_levels.c.day <= self.now,
                                            tension_levels.c.day > self.now - WINDOWS["day"])
            .order_by(tension_levels.c.day)).mappings()})


@dataclass(frozen=True)
class Series:
    """Past buckets of one place by index; ``first`` is the oldest slot we may read (older
    ones predate monitoring or the history asked for, so they are unknown, not quiet)."""

    span: Span
    rows: dict[int, Mapping]
    first: int

    def slot(self, index: int, column: str) -> float:
        """A past slot read as the window is read now: its previous bucket plus the elapsed
        fraction of its own bucket."""
        def get(i: int) -> float:
            row = self.rows.get(i)
            return float(row[column] or 0) if row is not None else 0.0
        return get(index - 1) + get(index) * self.span.elapsed

    def trailing(self) -> list[int]:
        """Slots wholly before the window being read, oldest first."""
        return list(range(self.first, self.span.index(self.span.current) - 1))

    def same_time_of_week(self, weeks: int) -> list[int]:
        now = self.span.index(self.span.current)
        return [now - k * self.span.per_week for k in range(weeks, 0, -1)
                if now - k * self.span.per_week >= self.first]


def candidate(rule, ev: Evaluation, place: str, value: float | None, active: bool,
              description: str = "", window: str | None = None, **extra: str) -> Candidate:
    """Labels and annotations in one shape for every kind."""
    labels = {"alertname": rule.id, "locality": place, "category": rule.category,
              "severity": rule.severity, **rule.labels, **extra}
    notes = {"summary": rule.summary}
    if active:
        notes["description"] = description
        notes["dashboard"] = f"{ev.scope.dashboard_url.rstrip('/')}/localities/{place}"
        if window:
            notes["window"] = ev.span(window).text()
            involved = ev.narratives_in(window, place)
            if involved and "narrative" not in extra:
                notes["narratives"] = involved
    return Candidate(rule.id, labels, notes, value, active)


def evaluate(store, settings, now: dt.datetime) -> list[Candidate]:
    """Every configured rule against the store at ``now``."""
    return evaluate_rules(store, Scope.from_settings(settings), settings.rules.rules, now)


def evaluate_rules(store, scope: Scope, rules, now: dt.datetime) -> list[Candidate]:
    with store.transaction() as conn:
        ev = Evaluation(conn, scope, now)
        return [c for rule in rules for c in KINDS[rule.kind](rule, ev)]


# The kinds import the names above; KINDS maps a rule kind to its function.
from alerts.kinds import KINDS  # noqa: E402
