"""The Mastodon collector against a loopback instance (pytest-httpserver) through Mastodon.py.

The statuses and the instance document are real Mastodon responses from Mastodon.py's test
cassettes and from mastodon.social (fixtures/mastodon/SOURCE.txt). The loopback server pages
them the way Mastodon does: newest first, ``min_id`` returns the statuses right after the
given id, and Link headers carry the next (``max_id``) and previous (``min_id``) pages.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from werkzeug import Request, Response

from monitor.errors import SourceError
from sources.base import FetchState
from sources.http import HostPacer, HttpPolicy
from sources.mastodon import MastodonConfig, MastodonSource, plain_text

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
STATUSES = json.loads((FIXTURES / "public_timeline_20_statuses.json").read_text())  # newest first
INSTANCE = json.loads((FIXTURES / "instance_v2.json").read_text())
HOOT = json.loads((FIXTURES / "hashtag_hoot.json").read_text())
REMOTE = json.loads((FIXTURES / "status_mastodon_social.json").read_text())
PUBLIC = "/api/v1/timelines/public"


class Instance:
    """A loopback Mastodon serving recorded statuses with Mastodon's paging rules."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.timelines: dict[str, list[dict]] = {}
        self.paths: set[str] = set()
        self.remaining = 299
        httpserver.expect_request("/api/v2/instance/").respond_with_json(INSTANCE)

    def serve(self, stream: str, statuses: list[dict]) -> None:
        """``stream`` is "local", "public" or "tag/<name>"."""
        self.timelines[stream] = sorted(statuses, key=lambda s: int(s["id"]), reverse=True)
        path = f"/api/v1/timelines/{stream}" if stream.startswith("tag/") else PUBLIC
        if path not in self.paths:
            self.paths.add(path)
            self.server.expect_request(path).respond_with_handler(self._page)

    def _page(self, request: Request) -> Response:
        args = request.args
        stream = request.path.removeprefix("/api/v1/timelines/")
        if stream == "public" and args.get("local") in ("1", "true", "True"):
            stream = "local"
        statuses = self.timelines[stream]
        limit = int(args.get("limit", 20))
        if "min_id" in args:
            page = [s for s in statuses if int(s["id"]) > int(args["min_id"])][-limit:]
        else:
            page = [s for s in statuses if "max_id" not in args or int(s["id"]) < int(args["max_id"])][:limit]
        reset = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining),
                   "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")}
        if page:
            keep = "&".join(f"{k}={v}" for k, v in args.items() if k not in ("min_id", "max_id", "since_id"))
            base = self.server.url_for(request.path) + "?" + (keep + "&" if keep else "")
            headers["Link"] = (f'<{base}max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}min_id={page[0]["id"]}>; rel="prev"')
        return Response(json.dumps(page), content_type="application/json", headers=headers)

    def requests(self, path: str = PUBLIC) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == path]


@pytest.fixture
def instance(httpserver):
    return Instance(httpserver)


@pytest.fixture
def make_source(httpserver):
    sources: list[MastodonSource] = []

    def make(environ=None, **cfg) -> MastodonSource:
        cfg.setdefault("timelines", ["local"])
        config = MastodonConfig(id="mastodon-test", instance=httpserver.url_for("/"), **cfg)
        source = MastodonSource(config, HttpPolicy(per_host_interval=0, timeout=5), HostPacer(),
                                environ=environ or {})
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def state(cursor: dict | None = None) -> FetchState:
    return FetchState(source_id="mastodon-test", cursor=json.dumps(cursor) if cursor else None)


def positions(collection) -> dict:
    return json.loads(collection.state.cursor)


def ids(collection) -> list[str]:
    return [post.external_id for post in collection.posts]


def collect_error(source: MastodonSource, fetch_state: FetchState | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.collect(fetch_state or state(), NOW)
    assert "\n" not in str(caught.value)
    return caught.value


# --- configuration -------------------------------------------------------------------------------


def test_config_normalises_hashtags_and_needs_a_stream():
    config = MastodonConfig.model_validate({"kind": "mastodon", "id": "m", "instance": "https://mastodon.social",
                                            "hashtags": ["#Cumbria", "Carlisle", "Cumbria"]})
    assert config.hashtags == ("Cumbria", "Carlisle") and config.platform == "mastodon"
    base = {"kind": "mastodon", "id": "m", "instance": "https://mastodon.social"}
    for bad in ({}, {"hashtags": ["two words"]}, {"timelines": ["home"]}, {"hashtags": ["a"], "page_size": 41},
                {"hashtags": ["a"], "access_token_env": "lower"}, {"hashtags": ["a"], "tags": []}):
        with pytest.raises(ValidationError):
            MastodonConfig.model_validate({**base, **bad})


def test_construction_makes_no_request(httpserver, make_source):
    make_source(hashtags=["cumbria"], timelines=["local", "public"])
    assert httpserver.log == []


# --- reading timelines ---------------------------------------------------------------------------


def test_first_poll_takes_the_newest_page_only(instance, make_source):
    instance.serve("local", STATUSES)
    result = make_source(page_size=5).collect(state(), NOW)
    assert ids(result) == [s["id"] for s in STATUSES[:5]]
    assert positions(result) == {"local": STATUSES[0]["id"]}
    assert not result.more and result.state.status == "ok" and result.notes == ()
    (sent,) = instance.requests()
    assert sent.args["local"] in ("1", "true", "True") and sent.args["limit"] == "5"
    assert "min_id" not in sent.args

    newest = result.posts[0]
    assert newest.text == "you can't say that on television"
    assert newest.published_at == dt.datetime(2026, 8, 2, 5, 28, 1, 712000, tzinfo=UTC)
    assert newest.url == "http://localhost:3000/@admin/117024258897469903"
    assert newest.language == "en" and newest.title is None and newest.geo is None
    host = instance.server.host
    assert newest.author_handle == f"admin@{host}"  # local accounts get the instance's domain
    assert newest.meta == {"platform": "mastodon", "instance": host, "stream": "local"}
    assert result.posts[3].text == "@mastodonpy_test beep beep I'm a jeep"


def test_later_polls_walk_forward_from_min_id_without_gaps(instance, make_source):
    instance.serve("local", STATUSES)
    source = make_source(page_size=4, max_pages=2)
    known = STATUSES[11]["id"]  # eleven newer statuses have arrived since
    first = source.collect(state({"local": known}), NOW)
    # The four right after the known one, then the next four via the Link header.
    assert ids(first) == [s["id"] for s in STATUSES[7:11] + STATUSES[3:7]]
    assert first.more and positions(first) == {"local": STATUSES[3]["id"]}
    sent = instance.requests()
    assert sent[0].args["min_id"] == known and sent[1].args["min_id"] == STATUSES[7]["id"]
    assert sent[1].args["local"] == sent[0].args["local"]  # the pager keeps the parameters

    second = source.collect(first.state, NOW)
    assert ids(second) == [s["id"] for s in STATUSES[:3]] and not second.more
    assert sorted(ids(first) + ids(second)) == sorted(s["id"] for s in STATUSES[:11])
    assert positions(second) == {"local": STATUSES[0]["id"]}

    quiet = source.collect(second.state, NOW)
    assert quiet.posts == [] and positions(quiet) == {"local": STATUSES[0]["id"]}


def test_hashtag_timeline_and_streams_keep_their_own_position(instance, make_source):
    instance.serve("tag/hoot", HOOT["body"])
    instance.serve("public", [REMOTE, *STATUSES[:2]])
    result = make_source(hashtags=["#hoot"], timelines=["public"]).collect(state(), NOW)
    hoot, remote = result.posts[0], result.posts[-1]  # each page is newest first
    assert hoot.text == "#hoot (hashtag toot)" and hoot.language == "ja"
    assert hoot.meta["hashtags"] == ["hoot"] and hoot.meta["stream"] == "tag:hoot"
    assert instance.requests("/api/v1/timelines/tag/hoot")[0].args["limit"] == "40"
    assert positions(result) == {"tag:hoot": HOOT["body"][0]["id"], "public": STATUSES[0]["id"]}

    # A real status from mastodon.social: content warning, mention, hashtag, remote author.
    assert remote.external_id == "110446223051565765"
    assert remote.title == "test post for mastodon.py stuff"
    assert remote.text == ("test post for mastodon.py stuff\n\n@halcy you're a doo-doo head\n\n"
                           "edit: editing this to have the maximum amount of fields filled "
                           ":trans_heart: #ThisIsAHashtag")
    assert remote.author_handle == "halcy@icosahedron.website" and remote.language == "de"
    assert remote.url == "https://icosahedron.website/@halcy/110446222386355655"
    assert remote.published_at == dt.datetime(2023, 5, 28, 12, 6, 50, tzinfo=UTC)


def test_boosts_are_skipped_and_repeats_across_streams_kept_once(instance, make_source):
    boost = {**STATUSES[1], "id": "117024258897469999", "reblog": STATUSES[2], "content": ""}
    instance.serve("tag/hoot", [STATUSES[0]])
    instance.serve("local", [boost, STATUSES[0]])
    result = make_source(hashtags=["hoot"], timelines=["local"]).collect(state(), NOW)
    assert ids(result) == [STATUSES[0]["id"]]
    assert positions(result)["local"] == "117024258897469999"  # seen, so not asked for again


def test_html_becomes_plain_text():
    html = ('<p>Meeting at the <a href="https://example.org/hall">'
            '<span class="invisible">https://</span><span class="ellipsis">example.org/ha</span>'
            '<span class="invisible">ll</span></a> tonight &amp; tomorrow<br>Bring   a friend</p>'
            '<ul><li>one</li><li>two</li></ul><p>&lt;script&gt; stays text</p>')
    assert plain_text(html) == ("Meeting at the https://example.org/hall tonight & tomorrow\n"
                                "Bring a friend\n\none\n\ntwo\n\n<script> stays text")
    assert plain_text("") == "" and plain_text("plain words") == "plain words"


def test_access_token_is_sent_and_a_missing_one_is_named(instance, make_source):
    instance.serve("local", STATUSES[:1])
    make_source(access_token_env="TENSION_MASTODON_TOKEN",
                environ={"TENSION_MASTODON_TOKEN": "secret-token"}).collect(state(), NOW)
    assert instance.requests()[0].headers["Authorization"] == "Bearer secret-token"
    error = collect_error(make_source(access_token_env="TENSION_MASTODON_TOKEN"))
    assert "set the environment variable TENSION_MASTODON_TOKEN" in str(error)


# --- failures ------------------------------------------------------------------------------------


def test_closed_public_timeline_is_skipped_and_others_continue(httpserver, instance, make_source):
    httpserver.expect_request(PUBLIC).respond_with_json(
        {"error": "This API requires an authenticated user"}, status=401)
    instance.serve("tag/hoot", HOOT["body"])
    result = make_source(hashtags=["hoot"], timelines=["public"]).collect(state({"public": "1"}), NOW)
    assert ids(result) == [HOOT["body"][0]["id"]]
    (note,) = result.notes
    assert note == (f"mastodon-test: {httpserver.host} public timeline is closed to us (HTTP 401): "
                    "skipped (set access_token_env or drop the stream)")
    assert positions(result) == {"tag:hoot": HOOT["body"][0]["id"], "public": "1"}  # kept as it was


def test_every_stream_closed_is_an_error(httpserver, instance, make_source):
    httpserver.expect_request(PUBLIC).respond_with_json({"error": "Forbidden"}, status=422)
    error = collect_error(make_source(timelines=["local"]))
    assert "every stream refused" in str(error) and "HTTP 422" in str(error)


def test_rate_limit_gives_the_reset_as_retry_after(httpserver, instance, make_source):
    reset = dt.datetime.now(UTC) + dt.timedelta(seconds=120)
    httpserver.expect_request(PUBLIC).respond_with_json(
        {"error": "Too many requests"}, status=429,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.isoformat(),
                 "Date": format_datetime(dt.datetime.now(UTC), usegmt=True)})
    error = collect_error(make_source())
    assert "rate limited (HTTP 429)" in str(error)
    assert 110 <= error.retry_after <= 121


@pytest.mark.parametrize("status, body, message", [
    (500, "<h1>We're sorry, but something went wrong</h1>", "server error (HTTP 500)"),
    (503, "", "server error (HTTP 503)"),
    (200, "<html>maintenance</html>", "malformed response (not JSON)"),
    (200, json.dumps(STATUSES[:3])[:2500], "malformed response (not JSON)"),  # a truncated page
    (200, '{"error": "not a list"}', "malformed response (not a list of statuses)"),
])
def test_failures_raise_and_keep_the_cursor(httpserver, instance, make_source, status, body, message):
    httpserver.expect_request(PUBLIC).respond_with_data(body, status=status,
                                                        content_type="application/json")
    stored = state({"local": STATUSES[5]["id"]})
    error = collect_error(make_source(), stored)
    assert message in str(error) and str(error).startswith(f"mastodon-test: {httpserver.host} local timeline")
    assert stored.cursor == json.dumps({"local": STATUSES[5]["id"]})


def test_failure_in_a_later_stream_aborts_the_whole_poll(httpserver, instance, make_source):
    instance.serve("tag/hoot", HOOT["body"])
    httpserver.expect_request(PUBLIC).respond_with_data("oops", status=502)
    error = collect_error(make_source(hashtags=["hoot"], timelines=["public"]))
    assert "public timeline: server error (HTTP 502)" in str(error)


def test_unreachable_instance(make_source):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = MastodonConfig(id="mastodon-test", instance=f"http://127.0.0.1:{port}", timelines=["local"])
    source = MastodonSource(config, HttpPolicy(per_host_interval=0, timeout=2), HostPacer(), environ={})
    started = time.monotonic()
    with pytest.raises(SourceError, match="unreachable"):
        source.collect(state(), NOW)
    assert time.monotonic() - started < 5
    source.close()


def test_spent_rate_limit_leaves_other_streams_for_after_the_reset(instance, make_source):
    instance.remaining = 0
    instance.serve("tag/hoot", HOOT["body"])
    instance.serve("local", STATUSES[:2])
    result = make_source(hashtags=["hoot"], timelines=["local"]).collect(state(), NOW)
    assert ids(result) == [HOOT["body"][0]["id"]] and instance.requests() == []
    assert 250 <= result.retry_after <= 301 and not result.more
    assert "rate limit used up" in result.notes[0]
    assert positions(result) == {"tag:hoot": HOOT["body"][0]["id"]}
