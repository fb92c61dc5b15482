"""YouTube channel and playlist feeds: config sugar over the RSS collector, tested on loopback.

The feed below is synthetic, in the shape of https://www.youtube.com/feeds/videos.xml (Atom with
the yt: and media: namespaces); the channel, videos and texts are fictional.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from monitor.errors import SourceError
from sources.base import FetchState
from sources.http import HostPacer, HttpPolicy
from sources.youtube import YoutubeConfig, YoutubeSource

NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.timezone.utc)
CHANNEL_ID = "UCfictionalTownCouncil01"
PLAYLIST_ID = "PLfictionalMeetings0123456789abcd"

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL_ID}"/>
 <id>yt:channel:fictionalTownCouncil01</id>
 <yt:channelId>fictionalTownCouncil01</yt:channelId>
 <title>Fictional Town Council</title>
 <link rel="alternate" href="https://www.youtube.com/channel/{CHANNEL_ID}"/>
 <author>
  <name>Fictional Town Council</name>
  <uri>https://www.youtube.com/channel/{CHANNEL_ID}</uri>
 </author>
 <published>2019-03-01T10:00:00+00:00</published>
 <entry>
  <id>yt:video:AbCdEfGhIj0</id>
  <yt:videoId>AbCdEfGhIj0</yt:videoId>
  <yt:channelId>{CHANNEL_ID}</yt:channelId>
  <title>Full council meeting, 19 November</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=AbCdEfGhIj0"/>
  <author>
   <name>Fictional Town Council</name>
   <uri>https://www.youtube.com/channel/{CHANNEL_ID}</uri>
  </author>
  <published>2026-11-19T18:30:05+00:00</published>
  <updated>2026-11-19T20:01:02+00:00</updated>
  <media:group>
   <media:title>Full council meeting, 19 November</media:title>
   <media:content url="https://www.youtube.com/v/AbCdEfGhIj0?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i2.ytimg.com/vi/AbCdEfGhIj0/hqdefault.jpg" width="480" height="360"/>
   <media:description>Agenda item 3: the community safety partnership update.</media:description>
   <media:community>
    <media:starRating count="12" average="5.00" min="1" max="5"/>
    <media:statistics views="345"/>
   </media:community>
  </media:group>
 </entry>
 <entry>
  <id>yt:video:KlMnOpQrSt1</id>
  <yt:videoId>KlMnOpQrSt1</yt:videoId>
  <yt:channelId>{CHANNEL_ID}</yt:channelId>
  <title>Winter gritting routes explained</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=KlMnOpQrSt1"/>
  <author>
   <name>Fictional Town Council</name>
   <uri>https://www.youtube.com/channel/{CHANNEL_ID}</uri>
  </author>
  <published>2026-11-18T09:00:00+00:00</published>
  <updated>2026-11-18T09:00:00+00:00</updated>
  <media:group>
   <media:title>Winter gritting routes explained</media:title>
   <media:content url="https://www.youtube.com/v/KlMnOpQrSt1?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i3.ytimg.com/vi/KlMnOpQrSt1/hqdefault.jpg" width="480" height="360"/>
   <media:description></media:description>
   <media:community>
    <media:starRating count="0" average="0.00" min="1" max="5"/>
    <media:statistics views="57"/>
   </media:community>
  </media:group>
 </entry>
</feed>
"""
ATOM = "text/xml; charset=UTF-8"  # what YouTube sends


def make(**cfg) -> YoutubeSource:
    config = YoutubeConfig(kind="youtube", id="yt-council", **cfg)
    return YoutubeSource(config, HttpPolicy(timeout=2, per_host_interval=0), HostPacer())


def test_exactly_one_of_channel_and_playlist():
    for bad in ({}, {"channel_id": CHANNEL_ID, "playlist_id": PLAYLIST_ID},
                {"channel_id": "fictionalTownCouncil01"}, {"playlist_id": "PL x"},
                {"channel_id": CHANNEL_ID, "url": "https://x.org/"}):
        with pytest.raises(ValidationError):
            YoutubeConfig.model_validate({"kind": "youtube", "id": "yt", **bad})


def test_feed_urls():
    channel = YoutubeConfig(kind="youtube", id="yt", channel_id=CHANNEL_ID)
    assert channel.feed_url() == f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL_ID}"
    playlist = YoutubeConfig(kind="youtube", id="yt", playlist_id=PLAYLIST_ID, every="1h")
    assert playlist.feed_url() == f"https://www.youtube.com/feeds/videos.xml?playlist_id={PLAYLIST_ID}"
    rss = playlist.as_rss()
    assert (rss.kind, rss.id, rss.platform, rss.every) == ("rss", "yt", "youtube", dt.timedelta(hours=1))


def test_channel_feed_becomes_posts(httpserver):
    httpserver.expect_request("/feeds/videos.xml", query_string={"channel_id": CHANNEL_ID}) \
        .respond_with_data(FEED, content_type=ATOM)
    source = make(channel_id=CHANNEL_ID, feed_base=httpserver.url_for("/feeds/videos.xml"), language="en")
    try:
        result = source.collect(FetchState(source_id="yt-council"), NOW)
    finally:
        source.close()

    assert source.kind == "youtube" and result.notes == ()
    meeting, gritting = result.posts
    assert meeting.external_id == "yt:video:AbCdEfGhIj0"
    assert meeting.url == "https://www.youtube.com/watch?v=AbCdEfGhIj0"
    assert meeting.title == "Full council meeting, 19 November"
    assert meeting.text == ("Full council meeting, 19 November\n\n"
                            "Agenda item 3: the community safety partnership update.")
    assert meeting.published_at == dt.datetime(2026, 11, 19, 18, 30, 5, tzinfo=dt.timezone.utc)
    assert meeting.author_handle == "Fictional Town Council" and meeting.language == "en"
    assert meeting.meta == {"platform": "youtube", "feed_title": "Fictional Town Council"}
    assert gritting.text == "Winter gritting routes explained"  # no description: the title alone
    assert result.state.cursor == httpserver.url_for("/feeds/videos.xml") + f"?channel_id={CHANNEL_ID}"


def test_playlist_errors_come_from_the_rss_collector(httpserver):
    httpserver.expect_request("/feeds/videos.xml", query_string={"playlist_id": PLAYLIST_ID}) \
        .respond_with_data("", status=404)
    source = make(playlist_id=PLAYLIST_ID, feed_base=httpserver.url_for("/feeds/videos.xml"))
    try:
        with pytest.raises(SourceError, match="HTTP 404"):
            source.collect(FetchState(source_id="yt-council"), NOW)
    finally:
        source.close()


def test_registered_kind_builds_from_yaml_shaped_config(tmp_path):
    from pydantic import TypeAdapter  # here, not at the top: the registry imports every kind

    from sources.registry import AnySourceConfig, SourceContext, build_source

    config = TypeAdapter(AnySourceConfig).validate_python(
        {"id": "yt-council", "kind": "youtube", "channel_id": CHANNEL_ID})
    source = build_source(config, SourceContext(config_dir=tmp_path, http=HttpPolicy()))
    assert isinstance(source, YoutubeSource) and source.kind == "youtube"
    source.close()
