"""The rule kinds over locality counts, narratives, calls to gather, levels and sources.

Each kind is a function ``(rule, Evaluation) -> [Candidate]``; ``alerts.evaluate`` owns the
reading (windows, baselines, caches) and ``alerts.signals`` the kinds over narrative signals.
Imported by ``alerts.evaluate`` once its names exist; import ``alerts.evaluate``, not this.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping

import sqlalchemy as sa

from alerts.evaluate import (
    ANOMALY_COUNTS,
    COUNTS,
    EXCLUDED_FROM_MOBILISATION,
    MOBILISATION_POST_SCORE,
    SHARES,
    Candidate,
    Evaluation,
    Series,
    candidate,
)
from monitor import baselines
from monitor.store.schema import fetch_state, post_localities, post_scores, posts
from monitor.tension_index import describe_drivers

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
        from alerts import signals  # imports alerts.evaluate

        return getattr(signals, name)(rule, ev)
    return run


KINDS = {"threshold": threshold, "anomaly": anomaly, "narrative_spread": narrative_spread,
         "mobilisation": mobilisation, "level_change": level_change, "source_health": source_health,
         "amplification": _signal("amplification"), "emerging_narrative": _signal("emerging_narrative")}
