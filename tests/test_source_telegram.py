"""The Telegram public-channel collector against a real HTTP server on loopback.

The preview pages under fixtures/telegram/ are synthetic, in the shape of t.me/s/<channel>, for a
fictional channel (see SOURCE.txt there).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from pydantic import ValidationError
from werkzeug import Request, Response

from monitor.errors import SourceError
from sources.base import FetchState
from sources.http import HostPacer, HttpPolicy
from sources.telegram import TelegramConfig, TelegramSource

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CHANNEL = "fictional_town_updates"
FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
PAGES = {None: (FIXTURES / "newest.html").read_bytes(),
         "118": (FIXTURES / "before_118.html").read_bytes(),
         "110": (FIXTURES / "before_110.html").read_bytes()}
HTML = "text/html; charset=utf-8"


class Channel:
    """t.me/s/<channel> on pytest-httpserver: pages by ``before``, each request recorded."""

    def __init__(self, httpserver):
        self.pages = dict(PAGES)
        self.requests: list[str | None] = []
        httpserver.expect_request(f"/s/{CHANNEL}").respond_with_handler(self._page)
        self.base = httpserver.url_for("/s/")

    def _page(self, request: Request) -> Response:
        before = request.args.get("before")
        self.requests.append(before)
        return Response(self.pages.get(before, b""), content_type=HTML)


@pytest.fixture
def channel(httpserver) -> Channel:
    return Channel(httpserver)


@pytest.fixture
def make_source():
    sources: list[TelegramSource] = []

    def make(base_url: str, **cfg) -> TelegramSource:
        config = TelegramConfig(kind="telegram", id="tg-town", channel=CHANNEL, base_url=base_url, **cfg)
        source = TelegramSource(config, HttpPolicy(timeout=2, per_host_interval=0), HostPacer())
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def state(last_id: int | None = None, channel: str = CHANNEL) -> FetchState:
    cursor = json.dumps({"channel": channel, "last_id": last_id}) if last_id else None
    return FetchState(source_id="tg-town", cursor=cursor)


def last_id(fetch_state: FetchState) -> int | None:
    return json.loads(fetch_state.cursor)["last_id"] if fetch_state.cursor else None


def ids(result) -> list[int]:
    return [int(p.external_id.rsplit("/", 1)[1]) for p in result.posts]


def collect_error(source: TelegramSource, fetch_state: FetchState | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.collect(fetch_state or state(), NOW)
    assert "\n" not in str(caught.value)
    return caught.value


def test_config_defaults_and_validation():
    config = TelegramConfig.model_validate({"kind": "telegram", "id": "tg", "channel": "some_channel"})
    assert (str(config.base_url), config.platform, config.max_pages, config.backfill_pages) == (
        "https://t.me/s/", "telegram", 5, 1)
    for bad in ({"channel": "t.me/some_channel"}, {"channel": "abc"}, {"channel": "9lives_news"},
                {"channel": "ok_channel", "max_pages": 0}, {"channel": "ok_channel", "url": "x"}):
        with pytest.raises(ValidationError):
            TelegramConfig.model_validate({"kind": "telegram", "id": "tg", **bad})


def test_first_poll_reads_only_the_newest_page(channel, make_source):
    result = make_source(channel.base, language="en").collect(state(), NOW)

    assert channel.requests == [None]
    assert ids(result) == [118, 119, 122, 123, 124, 125]  # 121 is a photo without a caption
    assert last_id(result.state) == 125 and result.notes == () and not result.more
    first, roadworks, reply, forwarded, preview, warning = result.posts
    assert first.external_id == f"{CHANNEL}/118" and first.source_id == "tg-town"
    assert first.url == f"https://t.me/{CHANNEL}/118"
    assert first.published_at == dt.datetime(2026, 11, 19, 7, 45, 10, tzinfo=UTC)
    assert first.author_handle == CHANNEL and first.language == "en"
    assert first.meta == {"platform": "telegram"}
    assert roadworks.text == "Roadworks on Harbour Road from Monday, details: council.example/roadworks"
    assert reply.text == "Yes, the footbridge reopens on Friday."  # the quoted message is not text
    assert forwarded.meta == {"platform": "telegram", "forwarded": True}
    assert "Fictional Volunteer Group" not in str(forwarded)
    assert preview.text == "Community meeting moved: news.example/meeting"
    assert warning.text == ("⚠️ Flood warning for the river path tonight.\n"
                            "Please avoid the lower footpath.\nUpdates here.")


def test_backfill_pages_back_to_the_start_of_the_channel(channel, make_source):
    result = make_source(channel.base, backfill_pages=10).collect(state(), NOW)
    assert channel.requests == [None, "118", "110"]  # the oldest page has no "more" link
    assert ids(result) == [*range(102, 120), *range(122, 126)]  # 101 is a service message
    assert last_id(result.state) == 125


def test_later_polls_page_back_to_the_stored_message(channel, make_source):
    result = make_source(channel.base).collect(state(112), NOW)
    assert channel.requests == [None, "118"]
    assert ids(result) == [113, 114, 115, 116, 117, 118, 119, 122, 123, 124, 125]
    assert last_id(result.state) == 125 and result.notes == ()


def test_nothing_new_changes_nothing(channel, make_source):
    stored = state(125)
    result = make_source(channel.base).collect(stored, NOW)
    assert channel.requests == [None] and result.posts == [] and result.state == stored


def test_more_than_max_pages_says_what_was_skipped(channel, make_source):
    result = make_source(channel.base, max_pages=2).collect(state(103), NOW)
    assert channel.requests == [None, "118"] and ids(result)[0] == 110
    assert last_id(result.state) == 125
    assert result.notes == ("read 2 pages without reaching message 103; older new messages were "
                            "skipped (raise max_pages)",)


def test_truncated_page_is_used_but_the_cursor_stops_before_the_gap(channel, make_source):
    newest = PAGES[None]
    channel.pages[None] = newest[: newest.index(b'data-post="fictional_town_updates/124"') + 400]
    source = make_source(channel.base)
    result = source.collect(state(112), NOW)

    assert channel.requests == [None, "118"]  # the truncated page still leads to older ones
    assert ids(result) == [113, 114, 115, 116, 117, 118, 119, 122, 123]
    assert last_id(result.state) == 123  # not past 124, which was cut off
    assert result.notes == ("newest page was truncated; its missing messages will be fetched again",)

    channel.pages[None] = newest  # the next poll gets the rest
    assert ids(source.collect(result.state, NOW)) == [124, 125]


def test_truncated_older_page_holds_the_cursor_below_its_gap(channel, make_source):
    middle = PAGES["118"]
    channel.pages["118"] = middle[: middle.index(b'data-post="fictional_town_updates/115"')]
    result = make_source(channel.base).collect(state(111), NOW)
    assert ids(result) == [112, 113, 114, 118, 119, 122, 123, 124, 125]
    assert last_id(result.state) == 114  # 115-117 are missing
    assert result.notes == ("page before message 118 was truncated; its missing messages will be "
                            "fetched again",)


def test_truncated_page_without_messages_is_an_error(channel, make_source):
    channel.pages[None] = PAGES[None][:3000]
    assert "truncated page without a complete message" in str(collect_error(make_source(channel.base)))


def test_page_that_is_not_a_preview_is_an_error(channel, make_source):
    channel.pages[None] = b"<!DOCTYPE html><html><body><div class='tgme_page'>Join</div></body></html>"
    error = collect_error(make_source(channel.base), state(112))
    assert "not a channel preview page" in str(error) and not error.gone


def test_edited_channel_name_starts_afresh(channel, make_source):
    result = make_source(channel.base).collect(state(124, channel="another_channel"), NOW)
    assert channel.requests == [None] and ids(result)[0] == 118


def test_keep_author_false_stores_no_channel_name(channel, make_source):
    result = make_source(channel.base, keep_author=False).collect(state(), NOW)
    assert result.posts and all(p.author_handle is None for p in result.posts)


@pytest.mark.parametrize("status, headers", [
    (302, {"Location": f"https://t.me/{CHANNEL}"}),
    (404, {}),
], ids=["redirect-to-channel-page", "not-found"])
def test_channel_without_preview_is_gone(httpserver, make_source, status, headers):
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_data("", status=status, headers=headers)
    error = collect_error(make_source(httpserver.url_for("/s/")), state(112))
    assert error.gone and f"channel {CHANNEL} has no public preview: HTTP {status}" in str(error)


def test_redirect_to_another_preview_page_is_not_gone(httpserver, make_source):
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_data(
        "", status=302, headers={"Location": "/s/Fictional_Town_Updates"})
    error = collect_error(make_source(httpserver.url_for("/s/")))
    assert not error.gone and "check the channel name" in str(error)


def test_rate_limit_carries_retry_after(httpserver, make_source):
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "120"})
    error = collect_error(make_source(httpserver.url_for("/s/")))
    assert "HTTP 429" in str(error) and error.retry_after == 120 and not error.gone


def test_server_error_on_an_older_page_keeps_the_stored_cursor(channel, httpserver, make_source):
    def page(request: Request) -> Response:
        if request.args.get("before"):
            return Response("oops", status=500)
        return Response(PAGES[None], content_type=HTML)

    httpserver.clear()
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_handler(page)
    error = collect_error(make_source(httpserver.url_for("/s/")), state(112))
    assert "HTTP 500" in str(error) and not error.gone and error.retry_after is None


def test_unreachable_server(make_source):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert "unreachable" in str(collect_error(make_source(f"http://127.0.0.1:{port}/s/")))


def test_registered_kind_builds_from_yaml_shaped_config(tmp_path):
    from pydantic import TypeAdapter  # here, not at the top: the registry imports every kind

    from sources.registry import AnySourceConfig, SourceContext, build_source

    config = TypeAdapter(AnySourceConfig).validate_python(
        {"id": "tg-town", "kind": "telegram", "channel": CHANNEL, "every": "30m"})
    source = build_source(config, SourceContext(config_dir=tmp_path, http=HttpPolicy()))
    assert isinstance(source, TelegramSource) and source.kind == "telegram"
    source.close()
