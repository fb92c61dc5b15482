"""The Reddit collector against a loopback server, both ways: public JSON (httpx) and PRAW.

Listing items and the OAuth token body are real Reddit responses from PRAW's test cassettes
(fixtures/reddit/SOURCE.txt). The loopback server pages them the way Reddit does: newest first,
``limit`` items at a time, ``after=<fullname>`` for the next page, ``after: null`` at the end.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from werkzeug import Request, Response

from monitor.errors import SourceError
from sources.base import FetchState
from sources.http import HostPacer, HttpPolicy
from sources.reddit import RedditConfig, RedditSource

UTC = dt.timezone.utc
NOW = dt.datetime(2016, 12, 22, 3, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
ALL_NEW = json.loads((FIXTURES / "all_new_excerpt.json").read_text())["data"]["children"]
NEWER = json.loads((FIXTURES / "all_new_before.json").read_text())["data"]["children"]
COMMENTS = json.loads((FIXTURES / "askreddit_comments_excerpt.json").read_text())["data"]["children"]
TOKEN = json.loads((FIXTURES / "access_token.json").read_text())
RATE = {"x-ratelimit-remaining": "590.0", "x-ratelimit-used": "10", "x-ratelimit-reset": "300"}
CREDENTIALS = {"TENSION_REDDIT_CLIENT_ID": "app-id", "TENSION_REDDIT_CLIENT_SECRET": "app-secret"}


class Reddit:
    """A loopback Reddit serving recorded listing items with Reddit's paging rules, on both the
    public paths (/r/all/new.json) and the OAuth ones PRAW uses (/r/all/new)."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.listings: dict[str, list[dict]] = {}
        self.rate = dict(RATE)
        httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json(TOKEN)

    def serve(self, subreddit: str, listing: str, children: list[dict]) -> None:
        key = f"/r/{subreddit}/{listing}"
        if key not in self.listings:
            for path in (key, key + "/", key + ".json"):
                self.server.expect_request(path).respond_with_handler(self._page)
        self.listings[key] = children

    def _page(self, request: Request) -> Response:
        children = self.listings[request.path.removesuffix(".json").rstrip("/")]
        names = [child["data"]["name"] for child in children]
        start = names.index(request.args["after"]) + 1 if "after" in request.args else 0
        page = children[start:start + int(request.args.get("limit", 25))]
        more = start + len(page) < len(children)
        body = {"kind": "Listing", "data": {"modhash": "", "before": None, "children": page,
                                            "after": page[-1]["data"]["name"] if page and more else None}}
        return Response(json.dumps(body), content_type="application/json; charset=UTF-8",
                        headers=self.rate)

    def requests(self, path: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path.rstrip("/") == path]


@pytest.fixture
def reddit(httpserver):
    return Reddit(httpserver)


@pytest.fixture
def make_source(httpserver):
    sources: list[RedditSource] = []

    def make(environ=None, **cfg) -> RedditSource:
        cfg.setdefault("subreddits", ["all"])
        root = httpserver.url_for("/")
        config = RedditConfig(id="reddit-test", base_url=root, oauth_url=root, **cfg)
        source = RedditSource(config, HttpPolicy(per_host_interval=0, timeout=5), HostPacer(),
                              environ=environ or {})
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def praw_source(make_source, **cfg) -> RedditSource:
    return make_source(client_id_env="TENSION_REDDIT_CLIENT_ID",
                       client_secret_env="TENSION_REDDIT_CLIENT_SECRET", environ=CREDENTIALS, **cfg)


def state(cursor: dict | None = None) -> FetchState:
    return FetchState(source_id="reddit-test", cursor=json.dumps(cursor) if cursor else None)


def mark(child: dict) -> list:
    return [child["data"]["created_utc"], child["data"]["id"]]


def names(collection) -> list[str]:
    return [post.external_id for post in collection.posts]


def of(children: list[dict]) -> list[str]:
    return [child["data"]["name"] for child in children]


def entries(collection) -> dict:
    return json.loads(collection.state.cursor)


def collect_error(source: RedditSource, fetch_state: FetchState | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.collect(fetch_state or state(), NOW)
    assert "\n" not in str(caught.value)
    return caught.value


# --- configuration -------------------------------------------------------------------------------


def test_config_names_and_credentials():
    config = RedditConfig.model_validate({"kind": "reddit", "id": "r", "subreddits": ["r/Cumbria", "Carlisle"]})
    assert config.subreddits == ("Cumbria", "Carlisle") and config.platform == "reddit"
    assert str(config.base_url) == "https://www.reddit.com/" and not config.comments
    base = {"kind": "reddit", "id": "r", "subreddits": ["Cumbria"]}
    for bad in ({"subreddits": []}, {"subreddits": ["no spaces"]}, {"client_id_env": "TENSION_REDDIT_CLIENT_ID"},
                {"page_size": 101}, {"client_id_env": "x", "client_secret_env": "y"}, {"user": "me"}):
        with pytest.raises(ValidationError):
            RedditConfig.model_validate({**base, **bad})


# --- public JSON listings ------------------------------------------------------------------------


def test_first_poll_takes_the_newest_page(reddit, make_source):
    reddit.serve("all", "new", ALL_NEW)
    result = make_source(page_size=5).collect(state(), NOW)
    assert names(result) == of(ALL_NEW[:5]) and not result.more and result.notes == ()
    assert entries(result) == {"all/new": {"floor": mark(ALL_NEW[0])}}
    (sent,) = reddit.requests("/r/all/new.json")
    assert dict(sent.args) == {"limit": "5", "raw_json": "1"}
    assert sent.headers["User-Agent"] == HttpPolicy().user_agent

    link, selfpost = result.posts[0], result.posts[1]
    assert link.text == link.title == "Farewell Rush - We will never forget your stream"
    assert link.url == ("https://www.reddit.com/r/LeagueOfVideos/comments/5jo13y/"
                        "farewell_rush_we_will_never_forget_your_stream/")
    assert link.published_at == dt.datetime(2016, 12, 22, 2, 17, 30, tzinfo=UTC)
    assert link.author_handle == "AnotherProGamer" and link.language is None and link.geo is None
    assert link.meta == {"platform": "reddit", "subreddit": "LeagueOfVideos",
                         "link": "https://www.youtube.com/watch?v=w5aNSHEUfJE"}
    assert selfpost.text.startswith("[Xbox] [H] Heatwave x2, forest green loopers")
    assert selfpost.text.split("\n\n", 1)[1] == ALL_NEW[1]["data"]["selftext"]
    assert "link" not in selfpost.meta


def test_walk_reaches_the_floor_across_polls_without_gaps(reddit, make_source):
    reddit.serve("all", "new", NEWER + ALL_NEW)  # four newer posts have arrived on top
    source = make_source(page_size=4, max_pages=2)
    floor = mark(ALL_NEW[9])
    first = source.collect(state({"all/new": {"floor": floor}}), NOW)
    assert names(first) == of(NEWER + ALL_NEW[:4]) and first.more
    assert entries(first)["all/new"] == {"floor": floor, "after": ALL_NEW[3]["data"]["name"],
                                         "top": mark(NEWER[0])}
    second = source.collect(first.state, NOW)
    assert names(second) == of(ALL_NEW[4:9]) and not second.more  # stops at the floor
    assert entries(second) == {"all/new": {"floor": mark(NEWER[0])}}
    assert [r.args.get("after") for r in reddit.requests("/r/all/new.json")] == [
        None, NEWER[3]["data"]["name"], ALL_NEW[3]["data"]["name"], ALL_NEW[7]["data"]["name"]]

    quiet = source.collect(second.state, NOW)
    assert quiet.posts == [] and entries(quiet) == entries(second)


def test_posts_in_the_same_second_are_told_apart_by_id(reddit, make_source):
    reddit.serve("all", "new", ALL_NEW)
    same_second = ALL_NEW[3]  # ALL_NEW[0:6] were all created at 1482373050
    result = make_source(page_size=10).collect(state({"all/new": {"floor": mark(same_second)}}), NOW)
    assert names(result) == of(ALL_NEW[:3])


def test_comments_and_removed_text(reddit, make_source):
    removed = copy.deepcopy(ALL_NEW[6])
    removed["data"].update(selftext="[removed]", author="[deleted]")
    reddit.serve("AskReddit", "new", [removed])
    reddit.serve("AskReddit", "comments", COMMENTS)
    result = make_source(subreddits=["AskReddit"], comments=True).collect(state(), NOW)
    post, *comments = result.posts
    assert post.text == "Willing to Mod small/medium subreddits." and post.author_handle is None
    assert names(result)[1:] == of(COMMENTS)
    first = comments[0]
    assert first.text == "great, life is so much better when you can do what you enjoy for a living"
    assert first.title is None and first.author_handle == "preppypuppy"
    assert first.url == "https://www.reddit.com/r/AskReddit/comments/4r4inc/_/d4y8bdp/"
    assert first.meta["thread"] == '[Serious] To anyone who "followed their dreams", how has it panned out?'
    assert first.published_at == dt.datetime(2016, 7, 4, 0, 4, 50, tzinfo=UTC)
    assert set(entries(result)) == {"askreddit/new", "askreddit/comments"}


# --- failures (public) ---------------------------------------------------------------------------


@pytest.mark.parametrize("status, body, headers, message, retry_after", [
    (401, '{"message": "Unauthorized", "error": 401}', {}, "r/all: HTTP 401 UNAUTHORIZED", None),
    (429, '{"message": "Too Many Requests", "error": 429}', {"x-ratelimit-reset": "42"},
     "r/all: Reddit rate limit reached (HTTP 429) (resets in 42s)", 42.0),
    (500, "<html>upstream error</html>", {}, "r/all: Reddit server error (HTTP 500)", None),
    (200, "<!doctype html><html><body>Our CDN was unable to reach our servers</body></html>", {},
     "malformed response (not JSON", None),
    (200, json.dumps({"kind": "Listing", "data": {"children": ALL_NEW[:3]}})[:3000], {},
     "malformed response (not JSON", None),  # a page cut off mid-body
    (200, '{"kind": "t5", "data": {"display_name": "all"}}', {}, "malformed response (not a Reddit listing)", None),
])
def test_failures_raise_and_keep_the_cursor(httpserver, make_source, status, body, headers, message, retry_after):
    httpserver.expect_request("/r/all/new.json").respond_with_data(
        body, status=status, headers=headers, content_type="application/json")
    stored = state({"all/new": {"floor": mark(ALL_NEW[5])}})
    error = collect_error(make_source(), stored)
    assert message in str(error) and error.retry_after == retry_after
    assert json.loads(stored.cursor) == {"all/new": {"floor": mark(ALL_NEW[5])}}


def test_private_or_missing_subreddits_are_skipped(httpserver, reddit, make_source):
    httpserver.expect_request("/r/Carlisle/new.json").respond_with_json(
        {"reason": "private", "message": "Forbidden", "error": 403}, status=403)
    httpserver.expect_request("/r/Nowhere/new.json").respond_with_data(
        "", status=302, headers={"Location": "/subreddits/search.json?q=Nowhere"})
    reddit.serve("all", "new", ALL_NEW[:2])
    result = make_source(subreddits=["Carlisle", "Nowhere", "all"]).collect(state(), NOW)
    assert names(result) == of(ALL_NEW[:2])
    assert result.notes == ("r/Carlisle: closed to us (HTTP 403, private): skipped",
                            "r/Nowhere: no such subreddit (Reddit redirects to "
                            "/subreddits/search.json?q=Nowhere): skipped")
    assert set(entries(result)) == {"all/new"}
    error = collect_error(make_source(subreddits=["Carlisle"]))
    assert "every subreddit refused: r/Carlisle: closed to us" in str(error)


def test_spent_rate_limit_leaves_the_rest_for_later(reddit, make_source):
    reddit.rate["x-ratelimit-remaining"] = "0"
    reddit.serve("all", "new", ALL_NEW)
    reddit.serve("Cumbria", "new", ALL_NEW)
    result = make_source(subreddits=["all", "Cumbria"], page_size=5).collect(state(), NOW)
    assert names(result) == of(ALL_NEW[:5]) and result.retry_after == 300 and not result.more
    assert reddit.requests("/r/Cumbria/new.json") == [] and "rate limit used up" in result.notes[0]


def test_failure_in_a_later_subreddit_aborts_the_poll(httpserver, reddit, make_source):
    reddit.serve("all", "new", ALL_NEW[:2])
    httpserver.expect_request("/r/Cumbria/new.json").respond_with_data("bad gateway", status=502)
    error = collect_error(make_source(subreddits=["all", "Cumbria"]))
    assert str(error) == "r/Cumbria: Reddit server error (HTTP 502)"


# --- PRAW with app credentials -------------------------------------------------------------------


def test_praw_reads_the_same_listing_over_oauth(reddit, make_source):
    reddit.serve("all", "new", NEWER + ALL_NEW)
    source = praw_source(make_source, page_size=4, max_pages=2)
    floor = mark(ALL_NEW[9])
    first = source.collect(state({"all/new": {"floor": floor}}), NOW)
    assert names(first) == of(NEWER + ALL_NEW[:4]) and first.more
    second = source.collect(first.state, NOW)
    assert names(second) == of(ALL_NEW[4:9]) and not second.more
    assert entries(second) == {"all/new": {"floor": mark(NEWER[0])}}

    (token,) = reddit.requests("/api/v1/access_token")
    assert token.headers["Authorization"].startswith("Basic ")  # the app's id and secret
    listing = reddit.requests("/r/all/new")
    assert len(listing) == 4 and listing[0].headers["Authorization"] == "bearer <ACCESS_TOKEN>"
    assert [r.args.get("after") for r in listing][1:] == [
        NEWER[3]["data"]["name"], ALL_NEW[3]["data"]["name"], ALL_NEW[7]["data"]["name"]]
    post = second.posts[2]
    assert post.external_id == "t3_5jo13r" and post.author_handle == "charasma"
    assert post.text.startswith("Willing to Mod small/medium subreddits.\n\nI do not have experience")
    assert post.meta == {"platform": "reddit", "subreddit": "needamod"}


def test_praw_comments(reddit, make_source):
    reddit.serve("AskReddit", "comments", COMMENTS)
    reddit.serve("AskReddit", "new", [])
    result = praw_source(make_source, subreddits=["AskReddit"], comments=True).collect(state(), NOW)
    assert names(result) == of(COMMENTS)
    assert result.posts[0].url == "https://www.reddit.com/r/AskReddit/comments/4r4inc/_/d4y8bdp/"


def test_praw_missing_credential_is_named(make_source):
    source = make_source(client_id_env="TENSION_REDDIT_CLIENT_ID",
                         client_secret_env="TENSION_REDDIT_CLIENT_SECRET",
                         environ={"TENSION_REDDIT_CLIENT_ID": "app-id"})
    error = collect_error(source)
    assert "set the environment variable TENSION_REDDIT_CLIENT_SECRET" in str(error)


def test_praw_failures(httpserver, make_source):
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        {"message": "Unauthorized", "error": 401}, status=401)
    error = collect_error(praw_source(make_source))
    assert str(error) == "r/all: Reddit refused the app credentials (HTTP 401)"


@pytest.mark.parametrize("status, body, headers, message, retry_after", [
    (429, "Too Many Requests", {"x-ratelimit-reset": "120"}, "Reddit rate limit reached (HTTP 429) (resets in 120s)", 120.0),
    (403, '{"reason": "private", "error": 403}', {}, "every subreddit refused: r/all: closed to us (HTTP 403)", None),
    (200, '{"kind": "Listing", "data": {"children": [', {}, "r/all: malformed response (not JSON)", None),
])
def test_praw_listing_failures(httpserver, reddit, make_source, status, body, headers, message, retry_after):
    httpserver.expect_request("/r/all/new").respond_with_data(body, status=status, headers=headers,
                                                              content_type="application/json")
    error = collect_error(praw_source(make_source))
    assert message in str(error) and error.retry_after == retry_after
