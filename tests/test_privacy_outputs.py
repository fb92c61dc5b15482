"""End to end: a post carrying generated handles, links, addresses, phone numbers and markup
goes through the store to every place text leaves it, and none of them comes out.

(a) the amplification alert's notification, (b) the same alert acknowledged with a hostile
comment, delivered as an e-mail (aiosmtpd on loopback), a JSON webhook (pytest-httpserver) and a
Teams card (apprise's Workflows plugin, its HTTP post captured: Teams is HTTPS only), (c) the
briefing's HTML and Markdown editions, (d) an officer's pages and the JSON API.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import random
import re
import unicodedata
from pathlib import Path

import requests
import sqlalchemy as sa
import yaml
import hypothesis
from hypothesis import HealthCheck, Phase, assume, given
from hypothesis import strategies as st

from alerts.ack import acknowledge
from alerts.evaluate import evaluate_rules
from alerts.notify import deliver_due
from alerts.routing import AlertingConfig, receiver_targets
from monitor.briefing import data as briefing_data
from monitor.briefing import render as briefing_render
from monitor.emerging.clustering import clean as term_words_text
from monitor.store.schema import amplification_bursts, cluster_windows, narrative_clusters, outbox, posts
from test_briefing import W47, week  # noqa: F401 - the briefing's week fixture
from test_briefing import NOW as BRIEFING_NOW
from test_delivery import smtp  # noqa: F401 - the aiosmtpd fixture
from test_dispatch import M, S, T0, fire, run
from test_emerging import RULES, SCOPE
from test_privacy_cleaning import addresses, handles, links, markup, parts, phones, secret, wording
from test_web_pages import NOW as PAGES_NOW
from test_web_pages import _post, app, client_as, settings  # noqa: F401 - the dashboard fixtures

# A handful of examples each, not shrunk (each example renders whole pages; a failure prints the
# example as generated). hostile_text turns away most drawn names that are letters alone, so
# filtering is expected here, not a sign of a weak strategy.
E2E = hypothesis.settings(max_examples=5, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.filter_too_much])
IDS = itertools.count(1000)
NEVER = ("onerror", "onload", "javascript", "<script")


@st.composite
def hostile_text(draw) -> tuple[str, list[str]]:
    """Wording with one of each: a handle, a link, an address, a phone number and markup."""
    found = [draw(s) for s in (handles(), links(), addresses(), phones(), markup())]
    text = draw(wording) + " " + " ".join(f"{piece} {draw(wording)}" for piece, _ in found)
    pieces = [p for _, pieces in found for p in pieces if p not in ("<", ">", *NEVER)]
    # An all-letters ASCII name (Hypothesis also tries words from our own code, "acknowledged")
    # could be a word of the page around it; a digit or another script makes a leak unmistakable.
    assume(not any(re.fullmatch(r"[A-Za-z]+", part) for piece in pieces for part in parts(piece)))
    return text, pieces


@st.composite
def hostile_platform(draw) -> tuple[str, list[str]]:
    name = draw(secret.filter(lambda s: not s.isalpha()))
    return f"<i onerror={name}>", [name]  # posts.platform holds 32 characters


def assert_clean(outputs: dict[str, str], pieces: list[str], before: dict[str, str] | None = None) -> None:
    """None of the pieces (nor a run of four letters or digits from one) is in any output; a
    part that the same output held before the hostile post was stored proves nothing. Outputs
    keep the case they were given, so the match is exact."""
    for where, out in outputs.items():
        out = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", out)  # chart images
        for never in NEVER:
            assert never not in out.lower(), f"{never!r} in {where}"
        for piece in pieces:
            for part in parts(piece):
                if before and part in before.get(where, ""):
                    continue
                for form in {part, unicodedata.normalize("NFKC", part)}:
                    assert form not in out, f"{form!r} of {piece!r} in {where}:\n{out[:3000]}"


def term_words(text: str) -> list[str]:
    """A story's terms as the emerging stage counts them: words of the post's term text."""
    return term_words_text(text).split()


def unescaped_json(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=False)


# -- (a), (b): notifications -----------------------------------------------------------------

ROUTES = """
receivers:
  - {{name: officers, urls: ["{mail}", "{hook}"], body_format: text}}
  - {{name: partnership-teams, urls: ["workflows://127.0.0.1:443/abc123/s1gnature"], body_format: markdown}}
route:
  receiver: officers
  group_by: [alertname, locality]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 24h
  routes:
    - {{name: teams, receiver: partnership-teams, continue: true}}
    - {{name: officers, receiver: officers}}
"""


class TeamsCapture:
    """Apprise's Workflows plugin with its HTTP post kept here instead of sent."""

    def __init__(self):
        self.cards: list[dict] = []

    def __getattr__(self, name):
        return getattr(requests, name)

    def post(self, url, data=None, **_):
        self.cards.append(json.loads(data))
        response = requests.models.Response()
        response.status_code, response._content = 202, b""
        return response


@E2E
@given(post=hostile_text(), platform=hostile_platform(), comment=hostile_text())
def test_alert_messages_email_webhook_and_teams_card_carry_none_of_it(store, smtp, httpserver, monkeypatch,
                                                                       post, platform, comment):
    import apprise.plugins.workflows

    teams = TeamsCapture()
    monkeypatch.setattr(apprise.plugins.workflows, "requests", teams)
    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    port, mailbox = smtp
    mailbox.received.clear()
    n = next(IDS)
    start = T0 + n * 10 * M  # each example in its own hour
    # The burst as a store written before cleaning held it: raw wording, a feed's platform name.
    with store.transaction() as conn:
        conn.execute(sa.insert(amplification_bursts).values(
            signature=f"{n:012d}".ljust(64, "a"), started_at=start - 40 * M, ended_at=start - M, posts=60, authors=52,
            new_authors=40, excerpt=post[0], localities={"workington": 30}, platforms={platform[0]: 60},
            detected_at=start))
    [burst] = [c for c in evaluate_rules(store, SCOPE, RULES, start)
               if c.rule_id == "amp" and c.labels.get("burst") == f"{n:012d}"]
    assert "60 near-identical posts from 52 different accounts" in burst.annotations["description"]

    cfg = AlertingConfig.model_validate(yaml.safe_load(ROUTES.format(
        mail=f"mailto://127.0.0.1:{port}?from=tension@example.com&to=cohesion@example.org",
        hook=f"json://{httpserver.host}:{httpserver.port}/hook")))
    targets = receiver_targets(cfg, {})
    alertname = f"amplification-{n}"
    fire(store, f"amp-{n}-1", start, alertname=alertname, category="narrative", annotations=burst.annotations)
    run(store, start, cfg)  # a new group waits group_wait
    run(store, start + 31 * S, cfg)
    acknowledge(store, f"amp-{n}-1", by="officer", comment=comment[0], now=start + M)
    fire(store, f"amp-{n}-2", start + 2 * M, alertname=alertname, category="narrative",
         annotations=burst.annotations, burst="second")
    run(store, start + 6 * M, cfg)
    with store.transaction() as conn:
        mine = outbox.c.group_key.contains(f'alertname="{alertname}"')
        queued = [dict(r) for r in conn.execute(sa.select(outbox).where(mine)).mappings()]
    assert len(queued) == 4  # two messages, each to both receivers
    assert any("Acknowledged by officer" in m["body"] for m in queued)
    report = deliver_due(store, targets, cfg.delivery, start + 7 * M, rng=random.Random(7))
    assert report.errors == [] and report.sent == 4

    mails = [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in mailbox.received]
    outputs = {f"outbox {m['receiver']} {i}": m["title"] + "\n" + m["body"] + "\n" + unescaped_json(
        json.dumps(m["payload"])) for i, m in enumerate(queued)}
    outputs |= {f"email {i}": str(mail["Subject"]) + "\n" + mail.get_body(("plain",)).get_content()
                + "\n" + (mail.get_body(("html",)).get_content() if mail.get_body(("html",)) else "")
                for i, mail in enumerate(mails)}
    outputs |= {f"webhook {i}": unescaped_json(request.get_data(as_text=True))
                for i, (request, _) in enumerate(httpserver.log)}
    outputs |= {f"teams card {i}": json.dumps(card, ensure_ascii=False) for i, card in enumerate(teams.cards)}
    assert len(mails) == 2 and len(teams.cards) == 2 and len(httpserver.log) == 2
    assert_clean(outputs, post[1] + platform[1] + comment[1])
    for card in teams.cards:
        texts = [block.get("text", "") for block in card["attachments"][0]["content"]["body"]]
        assert not any("<" in t or ">" in t for t in texts)


# -- (c): the briefing, both editions --------------------------------------------------------

@E2E
@given(found=st.lists(hostile_text(), min_size=3, max_size=3), platform=hostile_platform())
def test_briefing_html_and_markdown_carry_none_of_it(week, found, platform):  # noqa: F811
    store, config = week
    n = next(IDS)
    day = W47.start + (W47.end - W47.start) / 2

    def editions() -> dict[str, str]:
        figures = briefing_data.gather(store, config, W47, BRIEFING_NOW)
        edition = briefing_render.render(figures, judgement=found[1][0] + "\n\n" + found[2][0],
                                         status="draft", version=1, pdf=False)
        # The judgement is the analyst's own wording: escaped, not cleaned; the rest is cleaned.
        return {"briefing html": re.sub(r'<div class="judgement.*?</div>', "", edition.html, flags=re.DOTALL),
                "briefing markdown": re.sub(r"> \*\*Key judgement\.\*\*.*?\n\n", "", edition.markdown,
                                            flags=re.DOTALL),
                "html": edition.html, "markdown": edition.markdown}

    before = editions()
    with store.transaction() as conn:
        conn.execute(sa.insert(narrative_clusters).values(
            id=f"em-hostile-{n}", status="candidate", first_seen=day, last_seen=day, centroid=b"\0" * 8,
            terms=[*term_words(found[0][0])[:6], "fire"], excerpts=[found[1][0], found[2][0]]))
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id=f"em-hostile-{n}", start=day.replace(hour=0), window="day", size=12, authors=9,
            flagged=0.7, reportable=True, localities={"workington": 8}, platforms={platform[0]: 12},
            computed_at=BRIEFING_NOW))
        conn.execute(sa.insert(amplification_bursts).values(
            signature=f"{n:064d}", started_at=day, ended_at=day + 40 * M, posts=60, authors=52, new_authors=40,
            excerpt=found[0][0], localities={"workington": 30}, platforms={platform[0]: 60},
            detected_at=BRIEFING_NOW))
    after = editions()
    assert f"em-hostile-{n}" in after["markdown"]
    assert_clean({k: after[k] for k in ("briefing html", "briefing markdown")},
                 [p for text in found for p in text[1]] + platform[1], before)
    # No raw HTML and no link syntax anywhere in the Markdown, the judgement included: only the
    # library's counter-messaging links (autolinks) and block-quote marks.
    raw_markdown = re.sub(r"<https?://[^\s<>]+>", "", re.sub(r"(?m)^(?:> ?)+", "", after["markdown"]))
    assert not [line for line in raw_markdown.splitlines() if "<" in line or ">" in line]
    assert not re.search(r"(?<!\\)\]\(", after["markdown"])
    assert "<script" not in after["html"].lower()


# -- (d): an officer's pages and the API -------------------------------------------------------

@E2E
@given(found=st.lists(hostile_text(), min_size=3, max_size=3), platform=hostile_platform())
def test_officer_pages_and_api_carry_none_of_it(app, store, found, platform):  # noqa: F811
    n = next(IDS)
    officer = client_as(app, "officer")

    def outputs() -> dict[str, str]:
        out = {path: officer.get(path).text for path in ("/localities/workington", "/narratives", "/")}
        for path in ("/api/v1/localities/workington/posts", "/api/v1/localities/workington", "/api/v1/narratives"):
            response = officer.get(path, headers={"Accept": "application/json"})
            assert response.status_code == 200, path
            out[path] = unescaped_json(response.text)
        return out

    before = outputs()
    with store.transaction() as conn:
        _post(conn, n, found[0][0], PAGES_NOW - M, ["hate"], "workington")
        conn.execute(sa.update(posts).where(posts.c.id == n).values(platform=platform[0]))
        conn.execute(sa.insert(narrative_clusters).values(
            id=f"em-hostile-{n}", status="candidate", first_seen=PAGES_NOW - M, last_seen=PAGES_NOW,
            centroid=b"\0" * 16, terms=["warehouse", "fire"], excerpts=[found[1][0]]))
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id=f"em-hostile-{n}", start=PAGES_NOW.replace(hour=0), window="day", size=50, authors=30,
            flagged=0.6, reportable=True, localities={"workington": 50}, platforms={platform[0]: 50},
            computed_at=PAGES_NOW))
        conn.execute(sa.insert(amplification_bursts).values(
            signature=f"{n:064d}", started_at=PAGES_NOW - 2 * M, ended_at=PAGES_NOW - M, posts=60, authors=52,
            new_authors=40, excerpt=found[2][0], localities={"workington": 30}, platforms={platform[0]: 60},
            detected_at=PAGES_NOW))
    after = outputs()
    [shown] = [p for p in json.loads(after["/api/v1/localities/workington/posts"]) if p["id"] == n]
    assert shown["text"] and shown["platform"] != platform[0]
    assert f"em-hostile-{n}" in after["/narratives"] and f"em-hostile-{n}" in after["/api/v1/narratives"]
    assert_clean(after, [p for text in found for p in text[1]] + platform[1], before)


def test_every_page_template_is_autoescaped_and_none_marks_a_value_safe():
    from monitor.web.pages import TEMPLATES

    folder = Path(TEMPLATES.env.loader.searchpath[0])
    names = sorted(p.name for p in folder.glob("*.html"))
    assert names and all(TEMPLATES.env.autoescape(name) is True for name in names)
    for name in names:
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", (folder / name).read_text()), name
    briefing = Path(briefing_render.TEMPLATES)
    assert not re.search(r"\|\s*safe\b|autoescape\s+false", (briefing / "briefing.html").read_text())
