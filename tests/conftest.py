"""Shared fixtures: a small self-contained config, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import hypothesis
import pytest
import sqlalchemy as sa

from monitor.store import Store
from monitor.store.schema import metadata

FIXTURES = Path(__file__).parent / "fixtures"
ALL_TABLES = ", ".join(t.name for t in metadata.sorted_tables)
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

UTC = dt.timezone.utc

# Every test (and every `tension` subprocess a test starts) shares one int8 ONNX export of the encoder
# instead of exporting it again into each temporary data directory (git-ignored; kept between runs).
os.environ.setdefault("TENSION_MODEL_CACHE", str(Path(__file__).resolve().parent.parent / "var" / "model-cache"))


# The hostile-input properties explore new examples on a developer's machine (and keep what
# they found in .hypothesis/); under CI they replay a fixed set, so a landing is never decided
# by which random examples a run happened to draw.
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


LOCALITIES = """\
attribution: "Data from GeoNames (geonames.org), CC BY 4.0"
area: {id: testshire, name: Testshire}
localities:
  - {id: workington, name: Workington, latitude: 54.64, longitude: -3.54, population: 21275,
     hashtags: ["#Workington"], postcode_districts: [CA14]}
  - {id: maryport, name: Maryport, latitude: 54.71, longitude: -3.49, population: 9555}
sensitive_sites:
  - {id: test-hall, name: Test Hall, type: community_centre, locality: workington, fictional: true}
"""

NARRATIVES = """\
narratives:
  - id: test-myth
    title: A test myth
    status: "false"
    summary: A false claim used in tests.
    claims: ["the moon is made of cheese"]
"""

RULES = """\
rules:
  - {id: hate-high, kind: threshold, summary: hate, metric: hate_share, above: 0.2,
     localities: [workington], for: 30m}
"""


def write_config(root: Path, *, sources: str | None = None, main_extra: str = "") -> Path:
    """A complete, valid config tree under ``root``; returns the main file's path."""
    (root / "localities").mkdir(parents=True, exist_ok=True)
    (root / "localities" / "test.yaml").write_text(LOCALITIES)
    (root / "narratives.yaml").write_text(NARRATIVES)
    (root / "rules.yaml").write_text(RULES)
    (root / "posts.jsonl").write_text(
        "\n".join(json.dumps(p) for p in sample_records(5)) + "\n"
    )
    (root / "sources.yaml").write_text(
        sources
        if sources is not None
        else "sources:\n  - {id: replay-test, kind: replay, path: posts.jsonl, every: 1m}\n"
    )
    main = root / "tension.yaml"
    main.write_text(
        f"data_dir: {root / 'var'}\n"
        "files: {localities: localities/test.yaml}\n"
        "http: {per_host_interval: 0s}\n" + main_extra
    )
    return main


def sample_records(n: int, *, start: dt.datetime = utc(2026, 11, 16, 8), prefix: str = "p") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "published_at": (start + dt.timedelta(minutes=10 * i)).isoformat().replace("+00:00", "Z"),
            "platform": "x" if i % 2 else "facebook",
            "author": f"@fictional_user_{i % 3}",
            "text": f"Fictional post {i} about #Workington roadworks",
            "lang": "en",
            "fictional": True,
        }
        for i in range(n)
    ]


@pytest.fixture
def config_path(tmp_path, monkeypatch) -> Path:
    for name in ("TENSION_DATABASE_URL", "TENSION_DATA_DIR", "TENSION_PSEUDONYM_KEY", "TENSION_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    return write_config(tmp_path / "config")


@pytest.fixture(scope="module")
def bundled_service(tmp_path_factory):
    """The bundled Cumberland config with a private SQLite database; the models load once per
    module."""
    from monitor.service import Service
    from monitor.settings import load_settings

    root = tmp_path_factory.mktemp("bundled")
    settings = load_settings(Path(__file__).resolve().parent.parent / "config" / "tension.yaml")
    settings = type(settings)(**{**settings.__dict__, "environment": settings.environment.model_copy(
        update={"database_url": f"sqlite:///{root / 'tension.db'}", "data_dir": root})})
    service = Service.open(settings)
    yield service
    service.close()


def _postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for the session; CI must have PostgreSQL, so it fails there."""
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"tension_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """The same tests on both backends."""
    if request.param == "sqlite":
        store = Store.open(f"sqlite:///{tmp_path / 'tension.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        store = Store.open(url)
        with store.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {ALL_TABLES} RESTART IDENTITY CASCADE"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def service_encoder():
    """The encoder the service scores with by default (int8 ONNX, the fine-tuned hate model inside), exported
    once per cache folder."""
    from classifiers.encoders import make_encoder
    from classifiers.hate_model import WEIGHTS_FILE
    from classifiers.heads import MODELS_DIR

    return make_encoder("onnx", threads=2, cache_dir=os.environ["TENSION_MODEL_CACHE"], branch=MODELS_DIR / WEIGHTS_FILE)
