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
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from monitor import baselines
from monitor.tension_index import describe_drivers
from monitor.store.schema import (
    fetch_state,
    locality_windows,
    narrative_windows,
    post_localities,
    post_scores,
    posts,
    tension_levels,
)

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


# -- threshold and anomaly ----------------------------------------------------------------------

def metric_value(metric: str, c: Mapping[str, float]) -> float:
    """conspiracy_share counts posts flagged by the conspiracy head or matched to a false
    narrative; the aggregates do not say which posts are both, so the larger count is used."""
    numerators = {"hate_share": c["hate"], "offensive_share": c["offensive"],
                  "conspiracy_share": max(c["conspiracy"], c["narrative"]),
                  "negativity_mean": c["negativity_sum"]}
    if metric in numerators:
        return numerators[metric] / c["scored"] if c["scored"] else 0.0
    return float(c[metric])


def describe(metric: str, c: Mapping[str, float], value: float) -> str:
    if metric in SHARES:
        return f"{SHARES[metric]} {value:.0%} ({round(value * c['scored'])} of {int(c['scored'])} posts)"
    if metric == "negativity_mean":
        return f"mean negativity {value:.2f} over {int(c['scored'])} posts"
    noun = {"reports": "community reports", "mobilisation_posts": "posts calling people to gather "
            "(X excluded)"}.get(metric, "posts")
    return f"{value:g} {noun}"


def usual(metric: str, series: Series, weeks: int = 4) -> float | None:
    """The metric over the same time of week in earlier weeks (pooled for shares)."""
    slots = series.same_time_of_week(weeks)
    if not slots:
        return None
    pooled = {column: sum(series.slot(i, column) for i in slots) for column in COUNTS}
    value = metric_value(metric, pooled)
    return value if metric in SHARES or metric == "negativity_mean" else value / len(slots)


def mobilisation_counts(ev: Evaluation, since: dt.datetime, min_score: float, *, by_site: bool):
    """(locality, site or None) → (posts, highest score, latest) for calls to gather."""
    keys = [post_localities.c.locality_id] + ([post_localities.c.site_id] if by_site else [])
    query = (
        sa.select(*keys, sa.func.count(), sa.func.max(post_scores.c.mobilisation),
                  sa.func.max(posts.c.published_at))
        .select_from(posts.join(post_scores, post_scores.c.post_id == posts.c.id)
                     .join(post_localities, post_localities.c.post_id == posts.c.id))
        .where(post_scores.c.status == "scored", post_scores.c.mobilisation >= min_score,
               sa.func.lower(posts.c.platform).not_in(EXCLUDED_FROM_MOBILISATION),
               posts.c.published_at > since, posts.c.published_at <= ev.now)
        .group_by(*keys))
    return {(row[0], row[1] if by_site else None): tuple(row[-3:]) for row in ev.conn.execute(query)}


def threshold(rule, ev: Evaluation) -> list[Candidate]:
    span = ev.span(rule.window)
    levels = ev.tension_today() if rule.metric == "tension_index" else {}
    calls = {}
    if rule.metric == "mobilisation_posts":
        for (place, _), (n, _, _) in mobilisation_counts(ev, span.previous, MOBILISATION_POST_SCORE,
                                                         by_site=False).items():
            calls[place] = n
    out = []
    for place in ev.scope.places(rule, ev.recent(rule.window), include_area=rule.include_area):
        if rule.metric == "tension_index":
            row = levels.get(place)
            value = float(row["index"]) if row else 0.0
            active = row is not None and value > rule.above
            text = (f"tension index {value:.0f} (level {row['level']}) today; {row['trend']:+.0f} "
                    f"on the same day last week") if row else ""
            out.append(candidate(rule, ev, place, value, active, text))
            continue
        c = ev.window_counts(rule.window, place)
        if rule.metric == "mobilisation_posts":
            c["mobilisation_posts"] = calls.get(place, 0) if place != ev.scope.area_id \
                else sum(calls.values())
        value = metric_value(rule.metric, c)
        enough = c["scored"] >= rule.min_posts or not (rule.metric in SHARES or
                                                       rule.metric == "negativity_mean")
        active = enough and value > rule.above
        text = ""
        if active:
            text = f"{describe(rule.metric, c, value)} {span.since()}"
            if rule.metric != "mobilisation_posts":
                base = usual(rule.metric, ev.series(span, place, dt.timedelta(weeks=4), weekly=True))
                when = "hour of the week" if rule.window == "hour" else "day of the week"
                shown = "not known yet" if base is None else (
                    f"{base:.0%}" if rule.metric in SHARES else f"{base:.2f}"
                    if rule.metric == "negativity_mean" else f"{base:.0f}")
                text += f"; usual for this {when}: {shown}"
        out.append(candidate(rule, ev, place, value, active, text, rule.window))
    return out


def anomaly_of(rule, ev: Evaluation, place: str) -> baselines.Anomaly:
    span, column = ev.span(rule.window), ANOMALY_COUNTS[rule.metric]
    observed = ev.window_counts(rule.window, place)[column]
    if observed < rule.min_count:  # never anomalous, and no history query needed
        return baselines.anomaly(observed, [0.0], kind=rule.baseline, min_count=rule.min_count)
    series = ev.series(span, place, rule.history, weekly=rule.baseline == "same_hour_of_week")
    weeks = rule.history // dt.timedelta(weeks=1)
    if rule.baseline == "same_hour_of_week":
        # monitor.baselines picks the same slot in earlier weeks; slots are keyed by a stand-in
        # instant per bucket index so hour and (local-midnight) day buckets work alike.
        def key(i: int) -> dt.datetime:
            return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + i * span.length
        pairs = {key(i): series.slot(i, column) for i in series.same_time_of_week(weeks)}
        if pairs:
            history = baselines.same_hour_of_week(pairs, key(span.index(span.current)), weeks=weeks,
                                                  observed_from=key(series.first))
            kind = "same_hour_of_week" if rule.window == "hour" else "same_weekday"
            return baselines.anomaly(observed, history, kind=kind, min_count=rule.min_count)
        # No earlier week observed yet (a new deployment's first week): the recent trend is
        # the only history there is, and an anomaly rule that stays silent for a week is worse.
        series = ev.series(span, place, rule.history, weekly=False)
    trailing = [series.slot(i, column) for i in series.trailing()]
    result = baselines.anomaly(observed, trailing, kind="ewma", min_count=rule.min_count)
    if result.guard is None:
        expected = max(baselines.ewma(trailing, rule.alpha), 1.0 / (len(trailing) + 1))
        result = dataclasses.replace(result, expected=expected, p_value=baselines.poisson_tail(
            int(math.ceil(observed)), expected))
    return result


def anomaly(rule, ev: Evaluation) -> list[Candidate]:
    span = ev.span(rule.window)
    out = []
    for place in ev.scope.places(rule, ev.recent(rule.window), include_area=rule.include_area):
        a = anomaly_of(rule, ev, place)
        active = a.exceeds(p_value=rule.max_p_value, z=rule.min_z)
        text = ""
        if active:
            noun = {"posts": "posts", "reports": "community reports"}.get(
                rule.metric, rule.metric.replace("_posts", " posts"))
            basis = {"same_hour_of_week": "for this hour of the week", "same_weekday":
                     "for this day of the week", "ewma": "from the recent trend"}[a.baseline_kind]
            text = (f"{a.observed:g} {noun} {span.since()}; usual {basis}: {a.expected:.1f} "
                    f"({a.ratio:.1f}x, p={a.p_value:.1g}, z={a.z:.1f})")
        out.append(candidate(rule, ev, place, a.observed, active, text, rule.window))
    return out


# -- narratives, mobilisation, levels, sources ------------------------------------------------

def narrative_spread(rule, ev: Evaluation) -> list[Candidate]:
    span = ev.span(rule.window)
    allowed = None if ev.scope.localities is None and rule.localities == "all" \
        else set(ev.scope.places(rule))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    volume: dict[str, int] = defaultdict(int)
    for row in ev.narrative_rows(rule.window):
        nid = row["narrative_id"]
        if (rule.narratives != "all" and nid not in rule.narratives) or (
                rule.narratives == "all" and nid in ev.scope.untracked_narratives):
            continue
        volume[nid] += row["posts"]
        for place, n in (row["localities"] or {}).items():
            if place != ev.scope.area_id and (allowed is None or place in allowed):
                totals[nid][place] += int(n)
    out = []
    for nid in sorted(volume):
        spread = {p: n for p, n in totals[nid].items() if n > 0}
        n_posts = volume[nid] if rule.localities == "all" else sum(spread.values())
        checks = (n_posts >= rule.min_posts, len(spread) >= rule.min_localities)
        active = all(checks) if rule.require == "all" else any(checks)
        where = ", ".join(f"{ev.scope.name(p)} {n}" for p, n in
                          sorted(spread.items(), key=lambda t: (-t[1], t[0]))[:8])
        text = (f"'{ev.scope.narratives.get(nid, nid)}' in {n_posts} posts across {len(spread)} "
                f"places {span.since()} ({where or 'no place named'}); thresholds {rule.min_posts} "
                f"posts or {rule.min_localities} places")
        if rule.require == "all":
            text = text.replace(" posts or ", " posts and ")
        out.append(candidate(rule, ev, ev.scope.area_id, float(n_posts), active, text, rule.window,
                             narrative=nid))
    return out


def mobilisation(rule, ev: Evaluation) -> list[Candidate]:
    """One alert per (locality, site), not per post: ten posts about one gathering are one
    thing to act on. Resolves once the newest qualifying post is older than ``within``."""
    found = mobilisation_counts(ev, ev.now - rule.within, rule.min_score, by_site=rule.sites)
    places = set(ev.scope.places(rule, [place for place, _ in found]))
    out = []
    for (place, site), (n, top, latest) in sorted(found.items(), key=lambda t: (t[0][0], t[0][1] or "")):
        if place not in places:
            continue
        where = f"{ev.scope.name(site)} ({ev.scope.name(place)})" if site else ev.scope.name(place)
        hours = rule.within.total_seconds() / 3600
        text = (f"{n} post{'s' if n != 1 else ''} calling people to gather at {where} in the last "
                f"{hours:g}h; highest score {top:.2f}; latest "
                f"{latest.astimezone(ev.tz):%a %d %b %H:%M}; X posts are never used for this rule")
        out.append(candidate(rule, ev, place, float(n), True, text, **({"site": site} if site else {})))
    return out


def level_change(rule, ev: Evaluation) -> list[Candidate]:
    levels = ev.tension_today()
    out = []
    for place in ev.scope.places(rule, levels):
        row = levels.get(place)
        level = int(row["level"]) if row else 0
        active = level >= rule.min_level
        text = ""
        if active:
            colour = "red" if level >= 4 else "amber" if level == 3 else "green"
            drivers = describe_drivers(row["drivers"]) if isinstance(row["drivers"], dict) else "-"
            text = (f"tension level {level} ({colour}) today, index {row['index']:.0f}, "
                    f"{row['trend']:+.0f} on the same day last week")
            if drivers != "-":
                text += f"; drivers: {drivers}"
        out.append(candidate(rule, ev, place, float(level), active, text))
    return out


def source_health(rule, ev: Evaluation) -> list[Candidate]:
    """A replay that has played its file ("exhausted") is finished, not silent."""
    out = []
    for row in ev.conn.execute(sa.select(fetch_state).order_by(fetch_state.c.source_id)).mappings():
        if ev.scope.sources is not None and row["source_id"] not in ev.scope.sources:
            continue
        problems = []
        if row["status"] == "gone":
            problems.append("the source says it is gone")
        if row["consecutive_failures"] >= rule.max_consecutive_failures:
            problems.append(f"{row['consecutive_failures']} failed polls in a row")
        last = row["last_success_at"]
        if row["status"] != "exhausted" and last is not None and ev.now - last >= rule.silent_for:
            problems.append(f"no successful poll for {(ev.now - last).total_seconds() / 3600:.0f}h "
                            f"(since {last.astimezone(ev.tz):%a %d %b %H:%M})")
        text = f"source {row['source_id']}: {'; '.join(problems)} (see `tension sources list`)"
        out.append(candidate(rule, ev, ev.scope.area_id, float(row["consecutive_failures"]),
                             bool(problems), text, source=row["source_id"]))
    return out


def _signal(name: str):
    def run(rule, ev: Evaluation) -> list[Candidate]:
        from alerts import signals  # imports this module

        return getattr(signals, name)(rule, ev)
    return run


KINDS = {"threshold": threshold, "anomaly": anomaly, "narrative_spread": narrative_spread,
         "mobilisation": mobilisation, "level_change": level_change, "source_health": source_health,
         "amplification": _signal("amplification"), "emerging_narrative": _signal("emerging_narrative")}
