"""The Bluesky collector: Jetstream against a real websocket server on loopback replaying real
events, and searchPosts through the atproto SDK against a loopback HTTP server.

fixtures/bluesky/jetstream_events.jsonl holds real production Jetstream events; the searchPosts
pages beside it are synthetic (no recorded response exists). See SOURCE.txt there.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve
from werkzeug import Request, Response

from monitor.errors import SourceError
from monitor.localities import Locality
from sources.base import FetchState
from sources.bluesky import BlueskyConfig, BlueskySource, TermMatcher, place_terms
from sources.http import HostPacer, HttpPolicy

APP_PASSWORD = secrets.token_urlsafe(12)  # generated for the test: no secret in the repo
UTC = dt.timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
EVENTS = (FIXTURES / "jetstream_events.jsonl").read_text().splitlines()
NOW = dt.datetime(2026, 7, 4, 14, 40, tzinfo=UTC)  # two minutes after the capture
FIRST_US, LAST_US = 1783175888085434, 1783175888390226  # first and last event in the file
TERMS = ("asylum", "government", "immigrants")
PLACES = ("America", "#IndieRebellion", "Praze")


def time_us(frame: str) -> int | None:
    try:
        return json.loads(frame)["time_us"]
    except (ValueError, KeyError, TypeError):
        return None


class Jetstream:
    """A Jetstream stand-in: replays frames from the requested cursor on, like the real one
    (events at or after ``cursor``), then idles until the client leaves, or drops the TCP
    connection without a close frame after ``drop_after`` frames."""

    def __init__(self) -> None:
        self.frames: list[str] = list(EVENTS)
        self.paths: list[str] = []
        self.drop_after: int | None = None
        self.refuse: tuple[int, dict[str, str]] | None = None
        self.server = serve(self._handle, "127.0.0.1", 0, process_request=self._gate, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def _gate(self, connection: ServerConnection, request):
        if self.refuse:
            status, headers = self.refuse
            response = connection.respond(status, "refused\n")
            for name, value in headers.items():
                response.headers[name] = value
            return response
        return None

    def _handle(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path)
        cursor = parse_qs(urlsplit(connection.request.path).query).get("cursor")
        frames = [f for f in self.frames
                  if not cursor or time_us(f) is None or time_us(f) >= int(cursor[0])]
        for sent, frame in enumerate(frames):
            if sent == self.drop_after:
                break
            connection.send(frame)
        if self.drop_after is not None:
            connection.socket.shutdown(socket.SHUT_RDWR)
            connection.socket.close()
            return
        try:
            for _ in connection:  # idle until the client closes
                pass
        except ConnectionClosed:
            pass

    def query(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.paths[index]).query)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def jetstream():
    server = Jetstream()
    yield server
    server.stop()


@pytest.fixture
def make_source():
    sources: list[BlueskySource] = []

    def make(places=(), **cfg) -> BlueskySource:
        cfg.setdefault("read_for", 0.5)
        policy = HttpPolicy(timeout=2, per_host_interval=0)
        source = BlueskySource(BlueskyConfig(kind="bluesky", id="bsky", **cfg), policy, HostPacer(),
                               places=places)
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def state(**changes) -> FetchState:
    return FetchState(source_id="bsky", **changes)


def stream_cursor(fetch_state: FetchState) -> int | None:
    return json.loads(fetch_state.cursor)["time_us"]


def collect_error(source: BlueskySource, fetch_state: FetchState | None = None, now=NOW) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.collect(fetch_state or state(), now)
    assert "\n" not in str(caught.value)
    return caught.value


# --- configuration and matching ------------------------------------------------------------------


def test_config_defaults_and_validation():
    config = BlueskyConfig.model_validate({"kind": "bluesky", "id": "bsky", "terms": [" riot "]})
    assert (config.mode, config.platform, config.terms) == ("jetstream", "bluesky", ("riot",))
    assert str(config.jetstream_url) == "wss://jetstream2.us-east.bsky.network/subscribe"
    assert config.read_for == dt.timedelta(seconds=20) and config.rewind == dt.timedelta(seconds=5)
    for bad in ({"mode": "search"}, {"mode": "search", "handle_env": "TENSION_BSKY_HANDLE"},
                {"terms": ["  "]}, {"handle_env": "lower-case"}, {"jetstream_url": "https://x.org/"},
                {"max_events": 0}, {"topics": ["x"]}):
        with pytest.raises(ValidationError):
            BlueskyConfig.model_validate({"kind": "bluesky", "id": "bsky", **bad})


def test_place_terms_come_from_localities():
    localities = [
        Locality(id="workington", name="Workington", aliases=("Workie",), hashtags=("#Workington",),
                 latitude=54.64, longitude=-3.54),
        Locality(id="maryport", name="Maryport", aliases=("Workie",), latitude=54.71, longitude=-3.49),
    ]
    assert place_terms(localities) == ("Workington", "Workie", "#Workington", "Maryport")


def test_terms_match_whole_words_in_any_case_and_hashtags():
    matcher = TermMatcher(["Workington", "#Carlisle", "St Bees", "asylum hotel"])
    assert matcher.find("WORKINGTON's market; #workington again") == ("Workington",)
    assert matcher.find("Workingtonian pride, #CarlisleUnited, Carlisle") == ()
    assert matcher.find("rally in #carlisle near St\n Bees and the asylum  hotel") == (
        "#Carlisle", "St Bees", "asylum hotel")
    assert not TermMatcher([]) and TermMatcher([]).find("anything") == ()


# --- Jetstream -----------------------------------------------------------------------------------


def test_stream_keeps_only_matching_posts_from_real_events(jetstream, make_source):
    result = make_source(jetstream_url=jetstream.url, terms=TERMS, places=PLACES).collect(state(), NOW)

    assert jetstream.query() == {"wantedCollections": ["app.bsky.feed.post"]}  # no cursor yet: live
    by_rkey = {p.external_id.rsplit("/", 1)[1]: p for p in result.posts}
    assert sorted(by_rkey) == sorted(["3mptbyoeyc22k", "3mptbypfywk2v", "3mptbyospqk2i",
                                      "3mptbyou7ls2i", "3mptbyoumc22i", "3mptbypjm6224",
                                      "3mptbypt22l26"])
    post = by_rkey["3mptbypjm6224"]
    did = "did:plc:zcxfgub447re7p3vuvlw37wy"
    assert post.external_id == f"at://{did}/app.bsky.feed.post/3mptbypjm6224"
    assert post.url == f"https://bsky.app/profile/{did}/post/3mptbypjm6224"
    assert post.author_handle == did and post.language == "en" and post.title is None
    assert post.text.startswith("Mount Rushmore and that disgusting speech")
    assert post.published_at == dt.datetime(2026, 7, 4, 14, 38, 7, 440000, tzinfo=UTC)
    assert post.place_hints == ("America",)
    assert post.meta == {"platform": "bluesky", "terms": ["immigrants"]}

    card = by_rkey["3mptbyoeyc22k"]  # matched through its link card ("America's 250th ...")
    assert card.title == "What does America's 250th anniversary mean to Native Americans?"
    assert card.text == "www.youtube.com/watch?v=V5lD..." and card.place_hints == ("America",)
    assert by_rkey["3mptbypfywk2v"].place_hints == ("#IndieRebellion",)
    assert by_rkey["3mptbyou7ls2i"].language == "tr"
    assert by_rkey["3mptbyou7ls2i"].meta == {"platform": "bluesky", "terms": ["government"], "reply": True}
    assert by_rkey["3mptbypt22l26"].language is None  # a record without langs

    # identity, account, like, repost, follow and delete events are skipped, not malformed
    assert result.notes == () and result.more is False
    assert stream_cursor(result.state) == LAST_US  # the last event handled (an account event)


def test_stream_resumes_from_the_stored_cursor_rewound(jetstream, make_source):
    source = make_source(jetstream_url=jetstream.url, terms=TERMS, places=PLACES)
    first = source.collect(state(), NOW)
    jetstream.frames.append(json.dumps({
        "did": "did:plc:fictional0000000000000001", "time_us": LAST_US + 60_000_000, "kind": "commit",
        "commit": {"rev": "3mq", "operation": "create", "collection": "app.bsky.feed.post",
                   "rkey": "3mqfictional1", "cid": "bafyfictional",
                   "record": {"$type": "app.bsky.feed.post", "createdAt": "2030-01-01T00:00:00Z",
                              "langs": ["en"], "text": "Fictional: asylum hotel protest planned"}}}))
    second = source.collect(first.state, NOW + dt.timedelta(minutes=1))

    assert jetstream.query()["cursor"] == [str(LAST_US - 5_000_000)]
    # the rewind replays the last seconds (harmless: ingest deduplicates by at:// URI)
    assert {p.external_id for p in first.posts} < {p.external_id for p in second.posts}
    new = next(p for p in second.posts if p.external_id.endswith("3mqfictional1"))
    # a createdAt in the future is bounded by the time Jetstream saw the post
    assert new.published_at == dt.datetime.fromtimestamp((LAST_US + 60_000_000) / 1e6, tz=UTC)
    assert stream_cursor(second.state) == LAST_US + 60_000_000


def test_config_url_query_is_kept_and_places_from_the_registry_count(jetstream, make_source):
    source = make_source(jetstream_url=jetstream.url + "?compress=false", places=("Praze",))
    result = source.collect(state(cursor=json.dumps({"time_us": FIRST_US})), NOW)
    assert jetstream.query() == {"compress": ["false"], "wantedCollections": ["app.bsky.feed.post"],
                                 "cursor": [str(FIRST_US - 5_000_000)]}
    assert [p.place_hints for p in result.posts] == [("Praze",)]


def test_drop_mid_stream_keeps_what_was_read(jetstream, make_source):
    jetstream.drop_after = 7  # the seventh frame is the first "asylum" post
    source = make_source(jetstream_url=jetstream.url, terms=TERMS, places=PLACES)
    result = source.collect(state(), NOW)

    assert [p.external_id.rsplit("/", 1)[1] for p in result.posts] == [
        "3mptbyoeyc22k", "3mptbypfywk2v", "3mptbyospqk2i"]
    assert stream_cursor(result.state) == time_us(EVENTS[6])
    (note,) = result.notes
    assert note.startswith("stream dropped after 7 event(s)") and result.more is False

    jetstream.drop_after = None  # the next poll resumes from there and loses nothing
    rest = source.collect(result.state, NOW)
    assert jetstream.query()["cursor"] == [str(time_us(EVENTS[6]) - 5_000_000)]
    assert len({p.external_id for p in result.posts + rest.posts}) == 7


def test_drop_before_any_event_is_an_error(jetstream, make_source):
    jetstream.drop_after = 0
    stored = state(cursor=json.dumps({"time_us": FIRST_US}))
    error = collect_error(make_source(jetstream_url=jetstream.url, terms=TERMS), stored)
    assert "stream dropped before any event" in str(error) and not error.gone


def test_malformed_events_are_skipped_and_counted(jetstream, make_source):
    good = EVENTS[6]  # the "asylum" post
    bad_commit = json.dumps({"did": "did:plc:x", "time_us": FIRST_US, "kind": "commit",
                             "commit": {"operation": "create", "collection": "app.bsky.feed.post"}})
    jetstream.frames = [good[: len(good) // 2], "not json", "[1, 2]", bad_commit, good,
                        json.dumps({"time_us": "soon", "did": "did:plc:x", "kind": "commit"})]
    result = make_source(jetstream_url=jetstream.url, terms=TERMS).collect(state(), NOW)
    assert [p.external_id.rsplit("/", 1)[1] for p in result.posts] == ["3mptbyospqk2i"]
    assert result.notes == ("5 malformed event(s) skipped",)
    assert stream_cursor(result.state) == time_us(good)  # malformed events never move it


def test_max_events_far_behind_asks_to_be_polled_again(jetstream, make_source):
    source = make_source(jetstream_url=jetstream.url, terms=TERMS, max_events=7, read_for=5)
    late = source.collect(state(), NOW + dt.timedelta(hours=2))
    assert late.more is True and stream_cursor(late.state) == time_us(EVENTS[6])
    assert source.collect(state(), NOW).more is False  # caught up: within `every` of now


def test_keep_author_false_drops_the_did(jetstream, make_source):
    result = make_source(jetstream_url=jetstream.url, terms=TERMS, keep_author=False).collect(state(), NOW)
    assert result.posts and all(p.author_handle is None for p in result.posts)


def test_connection_refused_keeps_the_cursor(make_source):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = make_source(jetstream_url=f"ws://127.0.0.1:{port}/subscribe", terms=TERMS)
    error = collect_error(source, state(cursor=json.dumps({"time_us": FIRST_US})))
    assert "unreachable" in str(error) and error.retry_after is None


def test_refused_handshake_with_retry_after(jetstream, make_source):
    jetstream.refuse = (429, {"Retry-After": "30"})
    error = collect_error(make_source(jetstream_url=jetstream.url, terms=TERMS))
    assert "HTTP 429" in str(error) and error.retry_after == 30
    jetstream.refuse = (404, {})
    error = collect_error(make_source(jetstream_url=jetstream.url, terms=TERMS))
    assert "HTTP 404" in str(error) and error.retry_after is None


def test_without_terms_or_places_the_firehose_is_refused(jetstream, make_source):
    assert "no terms or places" in str(collect_error(make_source(jetstream_url=jetstream.url)))
    assert jetstream.paths == []


# --- searchPosts ---------------------------------------------------------------------------------


def fake_jwt(subject: str) -> str:
    """An unsigned token whose payload the SDK reads for its expiry (2100-01-01)."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part({'sub': subject, 'exp': 4102444800})}.c2ln"


SEARCH_NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
ACCESS = fake_jwt("did:plc:fictionalcouncil000000001")
SESSION = {"did": "did:plc:fictionalcouncil000000001", "handle": "fictional-council.bsky.social",
           "accessJwt": ACCESS, "refreshJwt": fake_jwt("refresh"), "active": True}
PAGES = {None: json.loads((FIXTURES / "search_posts_page1.json").read_text()),
         "fictional-page-2": json.loads((FIXTURES / "search_posts_page2.json").read_text())}


class SearchService:
    """createSession and searchPosts on a loopback pytest-httpserver, recording the calls."""

    def __init__(self, httpserver):
        self.logins: list[dict] = []
        self.searches: list[dict[str, str]] = []
        self.search_status: tuple[int, str, dict] | None = None
        httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST") \
            .respond_with_handler(self._login)
        httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(self._search)
        self.url = httpserver.url_for("/").rstrip("/")
        self.login_status: tuple[int, str] | None = None

    def _login(self, request: Request) -> Response:
        self.logins.append(request.get_json())
        if self.login_status:
            status, body = self.login_status
            return Response(body, status=status, content_type="application/json")
        return Response(json.dumps(SESSION), content_type="application/json")

    def _search(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ACCESS}":
            return Response('{"error":"AuthMissing"}', status=401, content_type="application/json")
        self.searches.append(dict(request.args))
        if self.search_status:
            status, body, headers = self.search_status
            return Response(body, status=status, headers=headers, content_type="application/json")
        return Response(json.dumps(PAGES[request.args.get("cursor")]), content_type="application/json")


@pytest.fixture
def search(httpserver, monkeypatch):
    monkeypatch.setenv("TEST_BSKY_HANDLE", "fictional-council.bsky.social")
    monkeypatch.setenv("TEST_BSKY_APP_PASSWORD", APP_PASSWORD)
    return SearchService(httpserver)


def search_source(make_source, service: SearchService, **cfg) -> BlueskySource:
    return make_source(mode="search", service_url=service.url, handle_env="TEST_BSKY_HANDLE",
                       app_password_env="TEST_BSKY_APP_PASSWORD", queries=("Workington",), **cfg)


def test_search_logs_in_and_pages_through_results(search, make_source):
    source = search_source(make_source, search, places=("Workington",))
    result = source.collect(state(), SEARCH_NOW)

    assert search.logins == [{"identifier": "fictional-council.bsky.social",
                              "password": APP_PASSWORD}]
    assert [s.get("cursor") for s in search.searches] == [None, "fictional-page-2"]
    assert search.searches[0] == {"q": "Workington", "sort": "latest", "limit": "100"}
    assert len(result.posts) == 5 and result.more is False
    road, card, backdated, welsh, reply = result.posts
    assert road.external_id == "at://did:plc:fictional0000000000000001/app.bsky.feed.post/3mqfict00001a"
    assert road.url == "https://bsky.app/profile/did:plc:fictional0000000000000001/post/3mqfict00001a"
    assert road.author_handle == "did:plc:fictional0000000000000001"  # the DID, never the handle
    assert road.published_at == dt.datetime(2026, 11, 20, 17, 55, 12, 345000, tzinfo=UTC)
    assert road.place_hints == ("Workington",) and road.language == "en"
    assert card.text == card.title == "Workington community meeting moved to Carnegie Theatre"
    assert backdated.published_at == dt.datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # indexedAt
    assert welsh.language == "cy" and reply.meta == {"platform": "bluesky", "reply": True}
    assert json.loads(result.state.cursor) == {"search": {"Workington": {"since": "2026-11-20T17:55:12.345Z"}}}

    again = source.collect(result.state, SEARCH_NOW)  # the next poll asks only for newer posts
    assert search.searches[-1]["since"] == "2026-11-20T17:55:12.345Z"
    assert len(search.logins) == 1 and again.state.cursor == result.state.cursor


def test_search_beyond_max_pages_resumes_where_it_stopped(search, make_source):
    source = search_source(make_source, search, max_pages=1)
    first = source.collect(state(), SEARCH_NOW)
    assert len(first.posts) == 3 and first.more is True
    assert json.loads(first.state.cursor)["search"]["Workington"] == {
        "page": "fictional-page-2", "newest": "2026-11-20T17:55:12.345Z"}
    second = source.collect(first.state, SEARCH_NOW)
    assert search.searches[-1]["cursor"] == "fictional-page-2" and len(second.posts) == 2
    assert second.more is False
    assert json.loads(second.state.cursor)["search"]["Workington"] == {"since": "2026-11-20T17:55:12.345Z"}


def test_search_queries_default_to_terms_and_places(search, make_source):
    source = make_source(mode="search", service_url=search.url, handle_env="TEST_BSKY_HANDLE",
                         app_password_env="TEST_BSKY_APP_PASSWORD", terms=("riot",),
                         places=("Workington",), language="en", page_size=25)
    source.collect(state(), SEARCH_NOW)
    assert [(s["q"], s["lang"], s["limit"]) for s in search.searches if "cursor" not in s] == [
        ("riot", "en", "25"), ("Workington", "en", "25")]


def test_missing_credential_names_the_variable(search, make_source, monkeypatch):
    monkeypatch.delenv("TEST_BSKY_APP_PASSWORD")
    error = collect_error(search_source(make_source, search), now=SEARCH_NOW)
    assert str(error) == "missing credential: set the environment variable TEST_BSKY_APP_PASSWORD"
    assert search.logins == []


def test_login_refused_is_a_clear_error(search, make_source):
    search.login_status = (401, '{"error":"AuthenticationRequired","message":"Invalid identifier or password"}')
    error = collect_error(search_source(make_source, search), now=SEARCH_NOW)
    assert "login: refused (401 AuthenticationRequired: Invalid identifier or password)" in str(error)
    assert "TEST_BSKY_HANDLE and TEST_BSKY_APP_PASSWORD" in str(error)


def test_unauthorised_search_logs_in_again_next_time(search, make_source):
    source = search_source(make_source, search)
    search.search_status = (401, '{"error":"ExpiredToken","message":"Token has been revoked"}', {})
    assert "search: refused (401 ExpiredToken" in str(collect_error(source, now=SEARCH_NOW))
    search.search_status = None
    assert len(source.collect(state(), SEARCH_NOW).posts) == 5 and len(search.logins) == 2


def test_rate_limit_uses_the_reset_header(search, make_source):
    reset = int((SEARCH_NOW + dt.timedelta(minutes=2)).timestamp())
    search.search_status = (429, '{"error":"RateLimitExceeded"}',
                            {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                             "ratelimit-reset": str(reset)})
    stored = state(cursor=json.dumps({"search": {"Workington": {"since": "2026-11-20T00:00:00.000Z"}}}))
    error = collect_error(search_source(make_source, search), stored, SEARCH_NOW)
    assert "rate limited (HTTP 429) (retry after 120s)" in str(error) and error.retry_after == 120


@pytest.mark.parametrize("status, body, message", [
    (500, '{"error":"InternalServerError","message":"Internal Server Error"}',
     "search: HTTP 500 InternalServerError"),
    (200, '{"posts": [{"uri": "at://x"', "search: malformed response"),
    (200, '{"hitsTotal": 3}', "search: malformed response"),
], ids=["500", "truncated-json", "not-the-lexicon"])
def test_search_failures_are_one_line_errors(search, make_source, status, body, message):
    search.search_status = (status, body, {})
    assert message in str(collect_error(search_source(make_source, search), now=SEARCH_NOW))


def test_search_service_unreachable(make_source, monkeypatch):
    monkeypatch.setenv("TEST_BSKY_HANDLE", "h.bsky.social")
    monkeypatch.setenv("TEST_BSKY_APP_PASSWORD", "p")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = make_source(mode="search", service_url=f"http://127.0.0.1:{port}", queries=("x",),
                         handle_env="TEST_BSKY_HANDLE", app_password_env="TEST_BSKY_APP_PASSWORD")
    assert "login: unreachable" in str(collect_error(source, now=SEARCH_NOW))


def test_registered_kind_builds_from_yaml_shaped_config(tmp_path):
    from pydantic import TypeAdapter  # here, not at the top: the registry imports every kind

    from sources.registry import AnySourceConfig, SourceContext, build_source

    config = TypeAdapter(AnySourceConfig).validate_python(
        {"id": "bsky-places", "kind": "bluesky", "places": ["Workington"], "read_for": "10s"})
    source = build_source(config, SourceContext(config_dir=tmp_path, http=HttpPolicy()))
    assert isinstance(source, BlueskySource) and source.config.read_for == dt.timedelta(seconds=10)
    source.close()
