"""The RSS/Atom collector against a real HTTP server on loopback (pytest-httpserver).

Feed documents under fixtures/feedparser/ come from feedparser's own test suite (see SOURCE.txt
there); the small feeds written out below cover what a council news feed looks like.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import socket
import threading
from pathlib import Path

import feedparser
import httpx
import pytest
from pydantic import ValidationError
from werkzeug import Request, Response

from monitor.errors import SourceError
from sources.base import Collection, FetchState
from sources.http import HostPacer, HttpPolicy
from sources.rss import RssConfig, RssSource, _point

NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.timezone.utc)
CORPUS = Path(__file__).parent / "fixtures" / "feedparser"
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"

RSS_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:georss="http://www.georss.org/georss"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Borough Gazette</title>
  <link>https://gazette.example/</link>
  <language>en-gb</language>
  <item>
    <guid isPermaLink="false">gazette-1001</guid>
    <title>Residents &amp; police meet after market fire</title>
    <link>https://gazette.example/news/1001</link>
    <description>&lt;p&gt;Traders &lt;b&gt;gathered&lt;/b&gt; at the&amp;nbsp;hall.&lt;/p&gt;
      &lt;p&gt;Caf&amp;eacute; reopens.&lt;/p&gt;&lt;script&gt;track()&lt;/script&gt;</description>
    <pubDate>Thu, 19 Nov 2026 09:30:00 +0000</pubDate>
    <author>editor@gazette.example (Jo Bloggs)</author>
    <georss:point>52.6309 -1.1398</georss:point>
  </item>
  <item>
    <title>Road closures for Sunday's parade</title>
    <link>https://gazette.example/news/1002</link>
    <content:encoded><![CDATA[<div><h2>Closures</h2>
      <ul><li>High Street</li><li>Mill Lane</li></ul></div>]]></content:encoded>
    <pubDate>Thu, 19 Nov 2026 10:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Council statement</title>
    <pubDate>Wed, 18 Nov 2026 16:45:00 GMT</pubDate>
  </item>
  <item>
    <link>https://gazette.example/news/empty</link>
  </item>
  <item>
    <guid isPermaLink="false">gazette-1001</guid>
    <title>Residents &amp; police meet after market fire (repeated)</title>
  </item>
</channel>
</rss>
"""

ATOM_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="cy">
  <title>Newyddion Lleol</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-11-20T08:00:00Z</updated>
  <entry>
    <title type="html">Cyfarfod &lt;em&gt;cymunedol&lt;/em&gt; heno</title>
    <id>tag:newyddion.example,2026:42</id>
    <link href="/2026/11/cyfarfod"/>
    <updated>2026-11-20T07:15:00+01:00</updated>
    <author><name>Gohebydd</name></author>
    <summary type="html">&lt;p&gt;Pawb yn &lt;a href="/x"&gt;croeso&lt;/a&gt;.&lt;/p&gt;</summary>
  </entry>
  <entry xml:lang="en">
    <title>Future-dated notice</title>
    <id>tag:newyddion.example,2026:43</id>
    <published>2030-01-01T00:00:00Z</published>
    <content type="xhtml">
      <div xmlns="http://www.w3.org/1999/xhtml">Hall <b>open</b> late</div>
    </content>
  </entry>
</feed>
"""

EMPTY_FEED = '<rss version="2.0"><channel><title>Quiet week</title></channel></rss>'


def rss_with(items: int) -> str:
    body = "".join(
        f"<item><guid>id-{n}</guid><title>Item {n}</title>"
        f"<description>{'x' * 900}</description></item>"
        for n in range(items)
    )
    return f'<rss version="2.0"><channel><title>Big</title>{body}</channel></rss>'


class RecordingPacer(HostPacer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, float]] = []

    def wait(self, host: str, interval: float) -> None:
        self.calls.append((host, interval))
        super().wait(host, interval)


@pytest.fixture
def make_source():
    """Build sources against the test server; every one is closed afterwards."""
    sources: list[RssSource] = []

    def make(url: str, *, timeout: float = 2, max_bytes: int = 100_000, pacer=None, **cfg):
        policy = HttpPolicy(timeout=timeout, max_bytes=max_bytes, per_host_interval=0)
        config = RssConfig(kind="rss", id="gazette", url=url, **cfg)
        source = RssSource(config, policy, pacer or HostPacer())
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


@pytest.fixture
def release():
    """An event a slow handler waits on; set at teardown so the server thread never lingers."""
    event = threading.Event()
    yield event
    event.set()


def state(**changes) -> FetchState:
    return FetchState(source_id="gazette", **changes)


def serve(httpserver, path: str, body: str | bytes = "", *, status: int = 200,
          headers: dict | None = None, content_type: str = RSS_TYPE) -> str:
    httpserver.expect_request(path).respond_with_data(
        body, status=status, headers=headers, content_type=content_type
    )
    return httpserver.url_for(path)


def collect_error(source: RssSource, fetch_state: FetchState | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.collect(fetch_state or state(), NOW)
    assert "\n" not in str(caught.value)
    return caught.value


# --- configuration -------------------------------------------------------------------------------


def test_config_defaults_and_validation():
    url = "https://example.org/feed"
    config = RssConfig.model_validate({"kind": "rss", "id": "bbc-local", "url": url})
    assert (config.platform, config.language, str(config.url)) == ("news", None, url)
    with pytest.raises(ValidationError):
        RssConfig.model_validate({"kind": "rss", "id": "x", "url": "not a url"})
    with pytest.raises(ValidationError):
        RssConfig.model_validate({"kind": "rss", "id": "x", "url": "https://e.org/", "urls": []})


# --- parsing a normal RSS 2.0 and Atom feed ------------------------------------------------------


def test_rss_feed_becomes_posts(httpserver, make_source):
    httpserver.expect_request("/feed.xml").respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/feed.xml")).collect(state(), NOW)

    assert isinstance(result, Collection) and result.notes == () and not result.not_modified
    # the untitled, textless item is skipped and the repeated guid is kept once
    assert [p.title for p in result.posts] == [
        "Residents & police meet after market fire",
        "Road closures for Sunday's parade",
        "Council statement",
    ]
    first, second, third = result.posts
    assert first.source_id == "gazette" and first.external_id == "gazette-1001"
    assert first.text == (  # the &nbsp; collapses to a plain space like any whitespace
        "Residents & police meet after market fire\n\nTraders gathered at the hall. Café reopens."
    )
    assert first.url == "https://gazette.example/news/1001"
    assert first.published_at == dt.datetime(2026, 11, 19, 9, 30, tzinfo=dt.timezone.utc)
    assert first.author_handle == "editor@gazette.example (Jo Bloggs)"
    assert first.language == "en-gb"
    assert first.geo == (52.6309, -1.1398)
    assert first.meta == {"platform": "news", "feed_title": "Borough Gazette"}

    assert second.external_id == "https://gazette.example/news/1002"  # no guid: the link
    assert second.text == "Road closures for Sunday's parade\n\nClosures High Street Mill Lane"
    assert second.geo is None and second.author_handle is None

    assert third.external_id.startswith("sha256:") and len(third.external_id) == 7 + 64
    assert third.text == "Council statement" and third.url is None

    state_after = result.state
    assert state_after.status == "ok" and state_after.last_success_at == NOW
    assert state_after.url is None and state_after.etag is None


def test_atom_feed_becomes_posts(httpserver, make_source):
    httpserver.expect_request("/atom").respond_with_data(ATOM_FEED, content_type=ATOM_TYPE)
    posts = make_source(httpserver.url_for("/atom"), platform="blog").collect(state(), NOW).posts

    welsh, english = posts
    assert welsh.title == "Cyfarfod cymunedol heno"
    assert welsh.text == "Cyfarfod cymunedol heno\n\nPawb yn croeso."
    assert welsh.external_id == "tag:newyddion.example,2026:42"
    assert welsh.url == httpserver.url_for("/2026/11/cyfarfod")  # relative link resolved
    assert welsh.published_at == dt.datetime(2026, 11, 20, 6, 15, tzinfo=dt.timezone.utc)
    assert welsh.author_handle == "Gohebydd"
    assert welsh.language == "cy"
    assert welsh.meta == {"platform": "blog", "feed_title": "Newyddion Lleol"}

    assert english.language == "en"
    assert english.text == "Future-dated notice\n\nHall open late"
    assert english.published_at == NOW  # a future date is clamped to the poll time


def test_ids_are_stable_across_polls(httpserver, make_source):
    httpserver.expect_request("/feed.xml").respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    source = make_source(httpserver.url_for("/feed.xml"))
    first = [p.external_id for p in source.collect(state(), NOW).posts]
    later = [p.external_id for p in source.collect(state(), NOW + dt.timedelta(hours=1)).posts]
    assert first == later and len(set(first)) == 3


def test_undated_entries_use_now_and_config_language(httpserver, make_source):
    feed = '<rss version="2.0"><channel><item><title>Undated</title></item></channel></rss>'
    httpserver.expect_request("/feed").respond_with_data(feed, content_type=RSS_TYPE)
    (post,) = make_source(httpserver.url_for("/feed"), language="ur").collect(state(), NOW).posts
    assert post.published_at == NOW and post.language == "ur"
    assert post.meta == {"platform": "news"}


def test_empty_valid_feed_is_not_an_error(httpserver, make_source):
    httpserver.expect_request("/feed").respond_with_data(EMPTY_FEED, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/feed")).collect(state(), NOW)
    assert result.posts == [] and result.notes == () and result.state.status == "ok"


def test_success_resets_failure_fields_and_sends_user_agent(httpserver, make_source):
    pacer = RecordingPacer()
    source = make_source(httpserver.url_for("/feed"), pacer=pacer)
    ua = HttpPolicy().user_agent
    httpserver.expect_request("/feed", headers={"User-Agent": ua}).respond_with_data(
        EMPTY_FEED, content_type=RSS_TYPE
    )
    failing = state(consecutive_failures=4, status="failing", last_error="boom")
    after = source.collect(failing, NOW).state
    assert (after.consecutive_failures, after.status, after.last_error) == (0, "ok", None)
    # The cursor remembers which configured URL the stored state belongs to.
    assert after.cursor == httpserver.url_for("/feed") and after.last_success_at == NOW
    assert pacer.calls == [("localhost", 0.0)]


# --- conditional GET and redirects ---------------------------------------------------------------


def test_etag_and_last_modified_round_trip_to_304(httpserver, make_source):
    etag, modified = '"v1-abc"', "Thu, 19 Nov 2026 10:00:00 GMT"

    def handler(request: Request) -> Response:
        sent = (request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"))
        if sent == (etag, modified):
            return Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": modified}
        return Response(RSS_FEED, content_type=RSS_TYPE, headers=headers)

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    source = make_source(httpserver.url_for("/feed.xml"))
    first = source.collect(state(), NOW)
    assert len(first.posts) == 3
    assert (first.state.etag, first.state.last_modified) == (etag, modified)

    second = source.collect(first.state, NOW)
    assert second.not_modified and second.posts == []
    assert (second.state.etag, second.state.last_modified) == (etag, modified)
    assert second.state.last_success_at == NOW and second.state.status == "ok"


def test_301_stores_new_url_and_fetches_it(httpserver, make_source):
    pacer = RecordingPacer()
    serve(httpserver, "/old", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/old"), pacer=pacer).collect(state(), NOW)
    assert result.state.url == httpserver.url_for("/new")
    assert len(result.posts) == 3
    assert len(pacer.calls) == 2  # paced before every request, redirects included


def test_stored_url_is_polled_instead_of_config_url(httpserver, make_source):
    httpserver.expect_request("/new").respond_with_data(EMPTY_FEED, content_type=RSS_TYPE)
    source = make_source(httpserver.url_for("/old"))
    stored = state(url=httpserver.url_for("/new"), cursor=httpserver.url_for("/old"))
    result = source.collect(stored, NOW)
    assert result.state.url == httpserver.url_for("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_followed_but_not_stored(httpserver, make_source, status):
    serve(httpserver, "/feed", status=status, headers={"Location": "/mirror"})
    httpserver.expect_request("/mirror").respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/feed")).collect(state(), NOW)
    assert result.state.url is None and len(result.posts) == 3


def test_permanent_hop_after_temporary_one_is_not_stored(httpserver, make_source):
    httpserver.expect_request("/a").respond_with_data("", status=308, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/c"})
    httpserver.expect_request("/c").respond_with_data("", status=301, headers={"Location": "/d"})
    httpserver.expect_request("/d").respond_with_data(EMPTY_FEED, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/a")).collect(state(), NOW)
    assert result.state.url == httpserver.url_for("/b")


def test_redirect_loop_is_an_error(httpserver, make_source):
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    assert "redirect loop" in str(collect_error(make_source(httpserver.url_for("/a"))))


def test_too_many_redirects_is_an_error(httpserver, make_source):
    for hop in range(7):
        httpserver.expect_request(f"/r{hop}").respond_with_data(
            "", status=307, headers={"Location": f"/r{hop + 1}"}
        )
    assert "more than 5 redirects" in str(collect_error(make_source(httpserver.url_for("/r0"))))


def test_redirect_without_location_or_to_other_scheme_is_an_error(httpserver, make_source):
    httpserver.expect_request("/a").respond_with_data("", status=301)
    serve(httpserver, "/b", status=302, headers={"Location": "file:///etc/passwd"})
    assert "without a Location" in str(collect_error(make_source(httpserver.url_for("/a"))))
    assert "unsupported address" in str(collect_error(make_source(httpserver.url_for("/b"))))


# --- HTTP failures -------------------------------------------------------------------------------


def test_410_means_gone(httpserver, make_source):
    httpserver.expect_request("/feed").respond_with_data("", status=410)
    error = collect_error(make_source(httpserver.url_for("/feed")))
    assert error.gone and "gone (410)" in str(error)


def test_429_retry_after_seconds(httpserver, make_source):
    serve(httpserver, "/feed", status=429, headers={"Retry-After": "120"})
    error = collect_error(make_source(httpserver.url_for("/feed")))
    assert error.retry_after == 120 and "429" in str(error) and not error.gone


def test_503_retry_after_http_date_is_relative_to_now(httpserver, make_source):
    when = "Fri, 20 Nov 2026 18:01:30 GMT"  # NOW + 90 s
    serve(httpserver, "/feed", status=503, headers={"Retry-After": when})
    assert collect_error(make_source(httpserver.url_for("/feed"))).retry_after == 90


def test_unparseable_retry_after_gives_no_hint(httpserver, make_source):
    serve(httpserver, "/feed", status=503, headers={"Retry-After": "soon"})
    assert collect_error(make_source(httpserver.url_for("/feed"))).retry_after is None


@pytest.mark.parametrize("status", [500, 404, 403])
def test_other_errors_name_status_and_url(httpserver, make_source, status):
    httpserver.expect_request("/feed").respond_with_data("oops", status=status)
    error = collect_error(make_source(httpserver.url_for("/feed")))
    assert str(status) in str(error) and httpserver.url_for("/feed") in str(error)
    assert error.retry_after is None and not error.gone


def test_failure_does_not_touch_state(httpserver, make_source):
    httpserver.expect_request("/feed").respond_with_data("", status=500)
    before = state(consecutive_failures=2, status="failing")
    collect_error(make_source(httpserver.url_for("/feed")), before)
    assert before.consecutive_failures == 2  # frozen, and the caller keeps the counters


def test_slow_server_times_out(httpserver, make_source, release):
    def handler(request: Request) -> Response:
        release.wait(10)
        return Response(EMPTY_FEED, content_type=RSS_TYPE)

    httpserver.expect_request("/feed").respond_with_handler(handler)
    error = collect_error(make_source(httpserver.url_for("/feed"), timeout=0.5))
    assert "timed out after 0.5s" in str(error)


def test_trickling_server_hits_overall_deadline(httpserver, make_source, release):
    def trickle():
        yield b'<rss version="2.0"><channel>'
        for _ in range(100):  # each gap is shorter than the read timeout; the total is not
            release.wait(0.1)
            yield b"<!-- -->"

    httpserver.expect_request("/feed").respond_with_handler(
        lambda request: Response(trickle(), content_type=RSS_TYPE)
    )
    assert "timed out" in str(collect_error(make_source(httpserver.url_for("/feed"), timeout=0.5)))


def test_refused_connection_is_unreachable(make_source):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = collect_error(make_source(f"http://127.0.0.1:{port}/feed"))
    assert "unreachable" in str(error)


def test_dns_failure_is_unreachable(make_source):
    source = make_source("http://no-such-host.invalid/feed")

    def fail(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    source.close()
    source._client = httpx.Client(transport=httpx.MockTransport(fail))
    assert "unreachable: [Errno -2] Name or service not known" in str(collect_error(source))


# --- size cap and compression --------------------------------------------------------------------


def test_oversized_body_with_content_length(httpserver, make_source):
    body = rss_with(50)
    assert len(body) > 45_000
    httpserver.expect_request("/feed").respond_with_data(body, content_type=RSS_TYPE)
    error = collect_error(make_source(httpserver.url_for("/feed"), max_bytes=10_000))
    assert "too large" in str(error)


def test_oversized_streamed_body_without_content_length(httpserver, make_source):
    chunks = [rss_with(50).encode()[i : i + 4096] for i in range(0, 50_000, 4096)]
    httpserver.expect_request("/feed").respond_with_handler(
        lambda request: Response(iter(chunks), content_type=RSS_TYPE)
    )
    error = collect_error(make_source(httpserver.url_for("/feed"), max_bytes=10_000))
    assert "too large" in str(error)


def test_gzip_body_is_decoded(httpserver, make_source):
    packed = gzip.compress(RSS_FEED.encode())
    serve(httpserver, "/feed", packed, headers={"Content-Encoding": "gzip"})
    assert len(make_source(httpserver.url_for("/feed")).collect(state(), NOW).posts) == 3


def test_decompressed_size_counts(httpserver, make_source):
    packed = gzip.compress(rss_with(50).encode())
    assert len(packed) < 10_000
    httpserver.expect_request("/feed").respond_with_data(
        packed, content_type=RSS_TYPE, headers={"Content-Encoding": "gzip"}
    )
    error = collect_error(make_source(httpserver.url_for("/feed"), max_bytes=10_000))
    assert "too large" in str(error)


def test_corrupt_gzip_is_a_source_error(httpserver, make_source):
    httpserver.expect_request("/feed").respond_with_data(
        b"not gzip at all", content_type=RSS_TYPE, headers={"Content-Encoding": "gzip"}
    )
    assert "request failed" in str(collect_error(make_source(httpserver.url_for("/feed"))))


# --- malformed feeds -----------------------------------------------------------------------------


def test_truncated_feed_keeps_usable_entries_with_a_note(httpserver, make_source):
    truncated = RSS_FEED[: RSS_FEED.index("<item>\n    <title>Council")]
    httpserver.expect_request("/feed").respond_with_data(truncated, content_type=RSS_TYPE)
    result = make_source(httpserver.url_for("/feed")).collect(state(), NOW)
    assert len(result.posts) == 2
    (note,) = result.notes
    assert note.startswith("malformed feed (") and note.endswith("2 entries still parsed")


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        ("", RSS_TYPE, "empty response"),
        ('<rss version="2.0"><channel><title>x</title></chan', RSS_TYPE, "malformed feed"),
        ("<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</body></html>",
         "text/html", "not RSS or Atom"),
        ('<?xml version="1.0"?><html><body><p>hi</p></body></html>', "application/xml",
         "not RSS or Atom"),
    ],
    ids=["empty", "broken-no-entries", "html-page", "other-xml"],
)
def test_unusable_documents_are_errors(httpserver, make_source, body, content_type, message):
    httpserver.expect_request("/feed").respond_with_data(body, content_type=content_type)
    error = collect_error(make_source(httpserver.url_for("/feed")))
    assert str(error).startswith("malformed feed") and message in str(error)


def test_feed_served_with_wrong_media_type_still_parses(httpserver, make_source):
    httpserver.expect_request("/feed").respond_with_data(RSS_FEED, content_type="text/html")
    result = make_source(httpserver.url_for("/feed")).collect(state(), NOW)
    assert len(result.posts) == 3 and "not an XML media type" in result.notes[0]


# --- feedparser's own corpus ---------------------------------------------------------------------


def corpus_files(kind: str) -> list[str]:
    return sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / kind).rglob("*.xml"))


def serve_corpus_file(httpserver, name: str) -> str:
    """Serve a corpus document with the headers its "Header:" comment lines ask for."""
    data = (CORPUS / name).read_bytes()
    headers = {k.decode().lower(): v.decode("latin-1")
               for k, v in re.findall(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", data, re.M)}
    content_type = headers.pop("content-type", "application/xml")
    return serve(httpserver, "/corpus", data, headers=headers, content_type=content_type)


# Ill-formed documents that still hold at least one entry with a title or text.
ILLFORMED_WITH_POSTS = {
    "illformed/chardet/eucjp.xml",
    "illformed/chardet/euckr.xml",
    "illformed/chardet/gb2312.xml",
    "illformed/chardet/koi8r.xml",
    "illformed/chardet/shiftjis.xml",
    "illformed/chardet/tis620.xml",
    "illformed/chardet/windows1255.xml",
    "illformed/rdf_channel_empty_textinput.xml",
}


def test_corpus_fixtures_are_present():
    assert len(corpus_files("illformed")) == 19
    assert ILLFORMED_WITH_POSTS <= set(corpus_files("illformed"))
    assert (CORPUS / "LICENSE_feedparser.txt").is_file() and (CORPUS / "SOURCE.txt").is_file()


@pytest.mark.parametrize("name", corpus_files("illformed"))
def test_illformed_corpus_never_crashes(httpserver, make_source, name):
    source = make_source(serve_corpus_file(httpserver, name))
    try:
        result = source.collect(state(), NOW)
    except SourceError as error:
        assert name not in ILLFORMED_WITH_POSTS, f"{name}: {error}"
        assert "\n" not in str(error)
        return
    assert isinstance(result, Collection)
    assert bool(result.posts) == (name in ILLFORMED_WITH_POSTS)
    for post in result.posts:
        assert post.text and post.published_at == NOW and post.external_id


@pytest.mark.parametrize(
    "name, text, title, language",
    [
        ("wellformed/rss/item_description_escaped_markup.xml", "Example description", None, None),
        ("wellformed/rss/item_description_naked_markup.xml", "Example description", None, None),
        ("wellformed/rss/item_content_encoded.xml", "Example content", None, None),
        ("wellformed/atom10/entry_summary_escaped_markup.xml", "Example Atom", None, None),
        ("wellformed/atom10/entry_content_inline_markup.xml", "Example Atom", None, None),
        # typed text/plain: angle brackets are text, not markup, and must survive
        ("wellformed/atom10/entry_title_text_plain_brackets.xml", "History of the <blink> tag",
         "History of the <blink> tag", None),
        ("wellformed/lang/entry_title_xml_lang.xml", "Example Atom", "Example Atom", "en"),
    ],
)
def test_wellformed_corpus_entries(httpserver, make_source, name, text, title, language):
    result = make_source(serve_corpus_file(httpserver, name)).collect(state(), NOW)
    (post,) = result.posts
    assert (post.text, post.title, post.language) == (text, title, language)
    assert result.notes == ()


@pytest.mark.parametrize(
    "name",
    ["wellformed/rss/item_guid.xml", "wellformed/lang/channel_language.xml",
     "wellformed/lang/http_content_language.xml", "wellformed/geo/georss_point.xml"],
)
def test_wellformed_corpus_without_usable_entries_is_empty(httpserver, make_source, name):
    result = make_source(serve_corpus_file(httpserver, name)).collect(state(), NOW)
    assert result.posts == [] and result.notes == ()


@pytest.mark.parametrize(
    "name, point",
    [
        ("wellformed/geo/georss_point.xml", (36.9382, 31.1732)),
        ("wellformed/geo/gml_point.xml", (36.9382, 31.1732)),
        ("wellformed/geo/gml_point_3d.xml", (42.3453, -156.2342)),
        ("wellformed/geo/gml_point_utm.xml", None),  # UTM metres, not degrees
        ("wellformed/geo/georss_polygon.xml", None),
        ("illformed/geo/gml_point.xml", (36.9382, 31.1732)),
        ("illformed/geo/georss_point_no_coords.xml", None),
        ("illformed/geo/georss_polygon_insufficient_coords.xml", None),
    ],
)
def test_geo_points_from_corpus(name, point):
    (entry,) = feedparser.parse(io.BytesIO((CORPUS / name).read_bytes())).entries
    assert _point(entry) == point


def test_w3c_geo_tags_and_out_of_range_points():
    def entry_geo(tags: str):
        doc = ('<rss version="2.0" xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#" '
               'xmlns:georss="http://www.georss.org/georss">'
               f"<channel><item>{tags}</item></channel></rss>")
        return _point(feedparser.parse(io.BytesIO(doc.encode())).entries[0])

    assert entry_geo("<geo:lat>51.5072</geo:lat><geo:long>-0.1276</geo:long>") == (51.5072, -0.1276)
    assert entry_geo("<georss:point>123.0 10.0</georss:point>") is None
    assert entry_geo("<geo:lat>north</geo:lat><geo:long>-0.1</geo:long>") is None


def test_close_closes_the_client(make_source):
    source = make_source("http://127.0.0.1:9/feed")
    source.close()
    assert source._client.is_closed


def test_editing_the_configured_url_forgets_the_old_redirect(httpserver):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/moved")})
    httpserver.expect_request("/moved").respond_with_data(RSS_FEED, content_type="application/rss+xml")
    httpserver.expect_request("/edited").respond_with_data(RSS_FEED, content_type="application/rss+xml")
    policy = HttpPolicy(per_host_interval=0)
    old = RssSource(RssConfig(id="feed", kind="rss", url=httpserver.url_for("/old")), policy, HostPacer())
    state = old.collect(FetchState("feed"), NOW).state
    assert state.url == httpserver.url_for("/moved")
    edited = RssSource(RssConfig(id="feed", kind="rss", url=httpserver.url_for("/edited")), policy, HostPacer())
    collection = edited.collect(state, NOW)
    assert collection.posts and collection.state.url is None
    assert httpserver.log[-1][0].path == "/edited"
