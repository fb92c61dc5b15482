"""The X recent-search collector, replaying vcrpy cassettes through the real tweepy client.

tweepy always talks to https://api.twitter.com, so nothing here can reach a loopback server:
requests are answered from cassettes under fixtures/x/ (real recordings from tweepy's own test
suite, and hand-written synthetic ones for fields and failures; see SOURCE.txt there). Requests
match on method, host and path, and every request sent is captured to check its parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import vcr
from pydantic import ValidationError

from monitor.errors import ConfigError, SourceError
from monitor.localities import Locality
from sources.base import FetchState
from sources.http import HttpPolicy
from sources.x import QUERY_LIMIT, XConfig, XSource, _query_key, build_queries, place_terms

UTC = dt.timezone.utc
NOW = dt.datetime(2022, 10, 7, 23, 25, tzinfo=UTC)
RESET = dt.datetime(2022, 10, 7, 23, 30, tzinfo=UTC)  # x-rate-limit-reset in the cassettes
CASSETTES = Path(__file__).parent / "fixtures" / "x"
TOKEN = {"TENSION_X_BEARER_TOKEN": secrets.token_urlsafe(24)}  # generated: no secret in the repo
REAL_IDS = [  # the ten posts of tweepy's recorded page, newest first
    "1578516068309794817", "1578515564971970560", "1578515061600964608", "1578514558372618243",
    "1578514055010324480", "1578513551664173057", "1578513048372797440", "1578512545039585281",
    "1578512041748627456", "1578511538419212288",
]


class Replay:
    """Plays one cassette and records the requests tweepy sent."""

    def __init__(self, name: str, *, repeats: bool = False):
        self.sent: list = []
        self._vcr = vcr.VCR(record_mode="none", decode_compressed_response=True,
                            match_on=["method", "host", "path", "capture"])
        self._vcr.register_matcher("capture", self._capture)
        self._name, self._repeats = name, repeats

    def _capture(self, sent, recorded) -> None:
        # vcrpy matches each request more than once (copies of it): keep one per request.
        if not self.sent or self.sent[-1].uri != sent.uri:
            self.sent.append(sent)

    def collect(self, source: XSource, state: FetchState, now: dt.datetime = NOW):
        with self._vcr.use_cassette(str(CASSETTES / self._name), allow_playback_repeats=self._repeats):
            return source.collect(state, now)

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.sent[index].uri).query))


@pytest.fixture
def make_source():
    sources: list[XSource] = []

    def make(places=("Workington",), environ=TOKEN, extra_places=(), **cfg) -> XSource:
        source = XSource(XConfig(id="x-cumberland", places=places, **cfg), HttpPolicy(),
                         places=extra_places, environ=environ)
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def state(cursor: dict | None = None) -> FetchState:
    return FetchState(source_id="x-cumberland", cursor=json.dumps(cursor) if cursor else None)


def ledger(collection) -> dict:
    return json.loads(collection.state.cursor)


def only_query(collection) -> dict:
    (entry,) = ledger(collection)["queries"].values()
    return entry


def collect_error(source: XSource, name: str, fetch_state: FetchState | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        Replay(name).collect(source, fetch_state or state())
    assert "\n" not in str(caught.value)
    return caught.value


# --- configuration and queries -------------------------------------------------------------------


def test_config_defaults_follow_x_terms():
    config = XConfig.model_validate({"kind": "x", "id": "x-cumberland"})
    assert (config.platform, config.keep_author, config.localities) == ("x", False, "all")
    assert config.bearer_token_env == "TENSION_X_BEARER_TOKEN" and config.monthly_read_cap == 10_000
    for bad in ({"terms": [" "]}, {"backfill": "8d"}, {"page_size": 5}, {"bearer_token_env": "a b"},
                {"monthly_read_cap": 0}, {"handles": []}):
        with pytest.raises(ValidationError):
            XConfig.model_validate({"kind": "x", "id": "x-cumberland", **bad})


def locality(id: str, name: str, **extra) -> Locality:
    return Locality(id=id, name=name, latitude=54.6, longitude=-3.5, **extra)


GAZETTEER = (
    locality("workington", "Workington", aliases=("Salterbeck",), hashtags=("#Workington",)),
    locality("st-bees", "St Bees", aliases=("St. Bees",), hashtags=("#StBees",)),
    locality("brampton", "Brampton", hashtags=("#BramptonCumbria",),
             ambiguous_with=("Brampton, Ontario",), context_terms=("Cumbria", "Hadrian's Wall")),
    locality("thursby", "Thursby", ambiguous_with=("Thursby (surname)",)),
)


def test_place_terms_from_the_gazetteer():
    assert place_terms(GAZETTEER) == (
        "#Workington", "Salterbeck", "Workington",
        "#StBees", '"St. Bees"', '"St Bees"',
        # an ambiguous name only counts next to its context terms; without any it is left out
        "#BramptonCumbria", '(Brampton (Cumbria OR "Hadrian\'s Wall"))',
    )
    assert place_terms(GAZETTEER, ["st-bees"]) == ("#StBees", '"St. Bees"', '"St Bees"')
    with pytest.raises(ConfigError, match="unknown locality id.*carlisle"):
        place_terms(GAZETTEER, ["carlisle"])


def test_queries_are_split_under_the_length_limit():
    places = [f"Place number {n}" for n in range(60)]
    queries = build_queries(places, ["protest", "asylum hotel"])
    assert len(queries) > 1 and all(len(q) <= QUERY_LIMIT for q in queries)
    assert all(q.endswith(' (protest OR "asylum hotel") -is:retweet') for q in queries)
    joined = " ".join(queries)
    assert all(joined.count(f'"Place number {n}"') == 1 for n in range(60))
    assert build_queries(["#Workington"], exclude_retweets=False) == ["#Workington"]
    with pytest.raises(ConfigError, match="longer than 512"):
        build_queries(["Workington"], [f"term{n}" for n in range(80)])


def test_source_needs_place_terms_and_combines_config_and_gazetteer(make_source):
    with pytest.raises(ConfigError, match="no place terms"):
        make_source(places=())
    source = make_source(places=("Silloth-on-Solway",), extra_places=place_terms(GAZETTEER[:1]),
                         terms=("fire",))
    assert source.queries == [
        '("Silloth-on-Solway" OR #Workington OR Salterbeck OR Workington) fire -is:retweet']


def test_missing_bearer_token_is_a_one_line_error(make_source):
    source = make_source(environ={})
    with pytest.raises(SourceError, match="set the environment variable TENSION_X_BEARER_TOKEN"):
        source.collect(state(), NOW)


# --- real recorded pages -------------------------------------------------------------------------


def test_recorded_page_becomes_posts(make_source):
    replay = Replay("search_recent_tweepy.yaml")
    result = replay.collect(make_source(max_pages=1), state())

    assert [p.external_id for p in result.posts] == REAL_IDS
    first = result.posts[0]
    assert first.text == "2022-10-07 22:42:12.637103 tweepy"
    # The recording has no created_at: the time comes from the snowflake id, a tenth of a
    # second after the time the tweepy test bot wrote into the text.
    assert first.published_at == dt.datetime(2022, 10, 7, 22, 42, 12, 752000, tzinfo=UTC)
    assert first.url == "https://x.com/i/web/status/1578516068309794817"
    assert (first.author_handle, first.language, first.geo) == (None, None, None)
    assert first.meta == {"platform": "x"}

    sent = replay.params()
    assert sent["query"] == "Workington -is:retweet" and sent["max_results"] == "100"
    assert sent["tweet.fields"] == "created_at,author_id,lang,geo,public_metrics,note_tweet"
    assert sent["expansions"] == "geo.place_id" and sent["start_time"] == "2022-10-07T22:25:00Z"
    assert "since_id" not in sent and "next_token" not in sent
    assert replay.sent[0].headers["Authorization"] == f"Bearer {TOKEN['TENSION_X_BEARER_TOKEN']}"

    # One page allowed and X has more: the sweep is kept open, nothing moves the since_id yet.
    assert result.more and result.retry_after is None and result.state.status == "ok"
    assert only_query(result) == {"start_time": "2022-10-07T22:25:00Z",
                                  "next_token": "b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul",
                                  "top": REAL_IDS[0]}
    assert ledger(result)["read"] == 10 and ledger(result)["month"] == "2022-10"


def test_pages_follow_next_token_with_the_same_window(make_source):
    replay = Replay("search_recent_two_pages.yaml")
    result = replay.collect(make_source(max_pages=2), state())
    assert len(result.posts) == 20 and result.posts[10:] and result.more
    assert [p.external_id for p in result.posts[10:]] == REAL_IDS
    first, second = replay.params(0), replay.params(1)
    assert "next_token" not in first
    assert second["next_token"] == "b26v89c19zqg8o3fpzbn1e0frlukytxrp1o8pel01jb7h"
    assert second["start_time"] == first["start_time"]
    assert only_query(result)["top"] == "1578522194770296832"  # newest of the whole sweep
    assert ledger(result)["read"] == 20


def test_open_sweep_resumes_and_then_moves_since_id(make_source):
    source = make_source()
    open_sweep = {"month": "2022-10", "read": 10, "queries": {_query_key(source.queries[0]): {
        "since_id": "1578400000000000000", "next_token": "tok-2", "top": "1578600000000000000"}}}
    replay = Replay("synthetic/fields_last_page.yaml")
    result = replay.collect(source, state(open_sweep))
    sent = replay.params()
    assert (sent["next_token"], sent["since_id"]) == ("tok-2", "1578400000000000000")
    assert "start_time" not in sent
    # The sweep reached its floor: since_id jumps to the newest post of the whole sweep.
    assert not result.more and only_query(result) == {"since_id": "1578600000000000000"}
    assert ledger(result)["read"] == 14

    replay = Replay("synthetic/fields_last_page.yaml")
    replay.collect(source, result.state)
    assert replay.params()["since_id"] == "1578600000000000000"
    assert "next_token" not in replay.params() and "start_time" not in replay.params()


def test_every_requested_field_is_used(make_source):
    result = Replay("synthetic/fields_last_page.yaml").collect(make_source(), state())
    crowd, thread, maryport = result.posts  # the repeated id is kept once
    assert crowd.text == ("Crowd gathering outside the hall on Vulcans Lane & police now there "
                          "#Workington")
    assert crowd.published_at == dt.datetime(2022, 10, 7, 23, 20, 5, tzinfo=UTC)
    assert crowd.author_handle == "900000000000000001" and crowd.language == "en"
    assert crowd.geo == (54.6425, -3.5449)
    assert crowd.place_hints == ("Workington, England",)
    assert crowd.meta == {"platform": "x", "place_country": "GB", "metrics": {
        "retweet_count": 3, "reply_count": 1, "like_count": 7, "quote_count": 0,
        "impression_count": 412}}
    assert thread.text.startswith("Long thread about the Whitehaven meeting tonight, the full")
    assert "<again>" in thread.text and thread.geo is None
    assert thread.place_hints == ("Workington, England",)
    assert maryport.text == "#Maryport \U0001f440" and maryport.language is None
    assert maryport.published_at.replace(microsecond=0) == dt.datetime(2022, 10, 7, 23, 15, 10, tzinfo=UTC)
    assert all(p.published_at.tzinfo is not None for p in result.posts)
    assert not result.more and only_query(result) == {"since_id": "1578525598806970593"}


def test_each_query_keeps_its_own_since_id(make_source):
    places = [f"Long place name number {n}" for n in range(30)]
    source = make_source(places=places)
    assert len(source.queries) == 2
    replay = Replay("synthetic/fields_last_page.yaml", repeats=True)
    result = replay.collect(source, state())
    assert [replay.params(i)["query"] for i in range(2)] == source.queries
    assert len(result.posts) == 3  # the same posts from both queries are kept once
    entries = ledger(result)["queries"]
    assert len(entries) == 2 and all(e == {"since_id": "1578525598806970593"} for e in entries.values())


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, message, retry_after", [
    ("synthetic/unauthorized.yaml", "X rejected the bearer token (HTTP 401): check TENSION_X_BEARER_TOKEN", None),
    ("synthetic/rate_limited.yaml", "X rate limit reached (HTTP 429) (resets in 300s)", 300.0),
    ("synthetic/server_error.yaml", "X server error (HTTP 500)", None),
    ("synthetic/not_json.yaml", "malformed X response (not JSON", None),
    ("synthetic/truncated.yaml", "malformed X response (not JSON", None),
])
def test_failed_first_request_raises_and_keeps_the_cursor(make_source, name, message, retry_after):
    stored = state({"month": "2022-10", "read": 7, "queries": {}})
    error = collect_error(make_source(), name, stored)
    assert message in str(error) and error.retry_after == retry_after
    assert str(error).startswith("x-cumberland: ")
    # The stored state is untouched and still valid: the next poll succeeds from it.
    result = Replay("synthetic/fields_last_page.yaml").collect(make_source(), stored)
    assert len(result.posts) == 3 and ledger(result)["read"] == 11


def test_failure_after_a_page_keeps_the_posts_read(make_source):
    result = Replay("page_then_server_error.yaml").collect(make_source(max_pages=2), state())
    # X billed those ten reads: they are returned, and the sweep resumes at the next page.
    assert [p.external_id for p in result.posts] == REAL_IDS
    assert not result.more and result.state.status == "ok"
    assert result.notes == ("stopped after 10 posts read: x-cumberland: X server error (HTTP 500)",)
    assert only_query(result)["next_token"] == "b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul"


def test_expired_token_restarts_the_query(make_source):
    source = make_source()
    stale = {"month": "2022-10", "read": 0, "queries": {_query_key(source.queries[0]): {
        "since_id": "1578000000000000000", "next_token": "expired", "top": "1"}}}
    replay = Replay("synthetic/stale_token.yaml")
    result = replay.collect(source, state(stale))
    assert replay.params(0)["next_token"] == "expired"
    assert replay.params(1)["start_time"] == "2022-10-07T22:25:00Z"
    assert "next_token" not in replay.params(1) and "since_id" not in replay.params(1)
    assert len(result.posts) == 3 and "query cursor refused by X" in result.notes[0]
    assert only_query(result) == {"since_id": "1578525598806970593"}


def test_spent_rate_limit_stops_paging_until_reset(make_source):
    replay = Replay("synthetic/rate_spent.yaml")
    result = replay.collect(make_source(max_pages=5), state())
    assert len(replay.sent) == 1 and len(result.posts) == 1
    assert not result.more and result.retry_after == (RESET - NOW).total_seconds()
    assert only_query(result)["next_token"] == "b26v89c19zqg8o3fpzbn1e0fsynthetic"


# --- the monthly read cap ------------------------------------------------------------------------


def test_monthly_read_cap_exhausts_until_the_month_rolls_over(make_source):
    source = make_source(monthly_read_cap=15, max_pages=5)
    replay = Replay("search_recent_two_pages.yaml")
    result = replay.collect(source, state())
    assert len(replay.sent) == 2 and len(result.posts) == 20  # posts read are kept
    assert replay.params(1)["max_results"] == "10"  # never more than the cap needs (X minimum 10)
    november = dt.datetime(2022, 11, 1, tzinfo=UTC)
    assert result.state.status == "exhausted" and not result.more
    assert result.state.last_error == ("monthly read cap reached: 20 of 15 posts read in 2022-10; "
                                       "X collection resumes 2022-11-01")
    assert result.retry_after == (november - NOW).total_seconds()

    later = Replay("synthetic/unauthorized.yaml")
    again = later.collect(source, result.state, NOW + dt.timedelta(days=3))
    assert later.sent == [] and again.posts == [] and again.state.status == "exhausted"

    next_month = Replay("synthetic/fields_last_page.yaml")
    resumed = next_month.collect(source, again.state, november + dt.timedelta(minutes=5))
    assert resumed.state.status == "ok" and resumed.state.last_error is None
    assert next_month.params()["next_token"]  # the open sweep carries on where the cap stopped it
    assert ledger(resumed)["month"] == "2022-11" and ledger(resumed)["read"] == 4


def test_unreadable_cursor_starts_afresh(make_source):
    broken = FetchState(source_id="x-cumberland", cursor="not json")
    result = Replay("synthetic/fields_last_page.yaml").collect(make_source(), broken)
    assert len(result.posts) == 3 and ledger(result)["read"] == 4
