"""The demo week's briefing end to end: `tension run --once` on the bundled config (real models),
then `tension briefing` for the seven days holding the replayed posts, as HTML, PDF and Markdown.

The PDF is checked as a reader gets it: pdfinfo (several pages), pdftotext (every section, the
draft mark), pdfimages (the two charts and the map are embedded) and pdftoppm (PNG pages, none
blank). No author handle from the scenario file and no pseudonym from the database may appear
in any edition.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import re
import subprocess

import sqlalchemy as sa
import yaml
from PIL import Image

from monitor.briefing.period import Period
from monitor.briefing.render import SECTIONS
from monitor.store.schema import amplification_bursts, cluster_windows, narrative_clusters, posts
from test_demo_alerts import REPO, demo_config, tension

DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _days_of_the_data(db) -> tuple[dt.date, dt.date]:
    """The first and last UTC day of the replayed posts: seven days, which straddle two ISO weeks on most
    weekdays (the replay ends within the day before the run), so the briefing is asked for these days."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(posts.c.published_at),
                                             sa.func.max(posts.c.published_at))).one()
    engine.dispose()
    return first.date(), last.date()


def _add_review_material(db, start: dt.datetime) -> None:
    """An emerging cluster and an amplification burst in the week (their stages may be elsewhere)."""
    engine = sa.create_engine(f"sqlite:///{db}")
    day = start + dt.timedelta(days=3)
    with engine.begin() as conn:
        conn.execute(sa.insert(narrative_clusters).values(
            id="brief-test-1", status="candidate", first_seen=day, last_seen=day, centroid=b"\0" * 8,
            terms=["warehouse", "fire", "started"],
            excerpts=["Warehouse fire was started deliberately @kev_cumbria https://example.invalid/p/1"]))
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id="brief-test-1", start=day, window="day", size=40, authors=31, flagged=0.8,
            reportable=True, localities={"workington": 25, "harrington": 6}, platforms={"facebook": 30},
            computed_at=day))
        conn.execute(sa.insert(amplification_bursts).values(
            signature="brief-test", started_at=day + dt.timedelta(hours=20), ended_at=day + dt.timedelta(hours=21),
            posts=60, authors=55, new_authors=41, excerpt="SHARE THIS. The council are giving the new flats away",
            localities={"carlisle": 20}, platforms={"x": 60}, detected_at=day))
    engine.dispose()


def _pseudonyms(db) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = set(conn.scalars(sa.select(posts.c.author_pseudonym).distinct())) - {None}
    engine.dispose()
    return found


def _non_blank(image: Image.Image) -> bool:
    grey = image.convert("L")
    return grey.getextrema()[0] < 200 and sum(grey.histogram()[:200]) > 500


def test_demo_week_briefing_as_html_pdf_and_markdown(tmp_path):
    config = demo_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    env["TENSION_DATA_DIR"] = str(tmp_path / "var")
    run = tension(config, env, "run", "--once")
    assert run.returncode == 0, run.stderr[-2000:]
    db = tmp_path / "var" / "tension.db"
    first, last = _days_of_the_data(db)
    assert (last - first).days == 6
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    _add_review_material(db, start)
    main = yaml.safe_load(config.read_text())
    main["briefing"]["events"] = [{"date": (start + dt.timedelta(days=9)).date().isoformat(),
                                   "place": "Brunton Park, Carlisle", "title": "Carlisle United home match"}]
    config.write_text(yaml.safe_dump(main))

    out = tmp_path / "briefings"
    made = tension(config, env, "briefing", "--from", first.isoformat(), "--to", last.isoformat(),
                   "--format", "html,pdf,md", "--out", str(out))
    assert made.returncode == 0, made.stdout + made.stderr
    label = Period(start, start + dt.timedelta(days=7)).label
    assert "Traceback" not in made.stderr and f"for {label} (version 1, draft)" in made.stdout
    [html_file] = out.glob("*.html")
    [pdf_file] = out.glob("*.pdf")
    [md_file] = out.glob("*.md")
    html, markdown = html_file.read_text(), md_file.read_text()

    info = subprocess.run(["pdfinfo", str(pdf_file)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 4
    pdf_text = subprocess.run(["pdftotext", "-layout", str(pdf_file), "-"], capture_output=True, text=True,
                              check=True).stdout
    flat_pdf = " ".join(pdf_text.split())
    for heading in SECTIONS:
        assert heading in html and f"## {heading}" in markdown and heading in flat_pdf, heading
    assert "DRAFT — for analyst review" in flat_pdf and "OFFICIAL-SENSITIVE" in flat_pdf
    assert "Carlisle United home match" in flat_pdf and "Cluster brief-test-1" in flat_pdf
    assert "Riverside Hotel" in flat_pdf and "council housing" in flat_pdf

    charts = DATA_URI.findall(html)
    assert len(charts) == 3 and 'alt="Map of the localities by tension level"' in html
    for chart in charts:
        image = Image.open(io.BytesIO(base64.b64decode(chart)))
        assert image.size[0] > 600 and _non_blank(image)
    images = subprocess.run(["pdfimages", "-list", str(pdf_file)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len([line for line in images if " image " in line]) >= 3

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_file), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages and all(_non_blank(Image.open(p)) for p in pngs)

    # No personal data: no handle from the input, no pseudonym, no link to a post.
    handles = {json.loads(line).get("author") for line in
               (REPO / "config" / "demo" / "scenario.jsonl").read_text().splitlines() if line.strip()} - {None}
    pseudonyms = _pseudonyms(db)
    assert handles and pseudonyms
    page = re.sub(r"<style>.*?</style>", "", DATA_URI.sub("data:image/png;base64,", html), flags=re.S)
    texts = {"html": page, "md": markdown, "pdf": pdf_text}
    for name, text in texts.items():
        leaked = [h for h in handles if h in text or re.search(rf"(?<![\w.]){re.escape(h)}(?!\w)", text, re.I)]
        assert not leaked, (name, leaked[:5])
        assert not [p for p in pseudonyms if p in text], name
        assert "example.invalid" not in text and "@" not in text, name
