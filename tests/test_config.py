"""Config: every mistake is reported as `file: field: message (hint)`, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.settings import load_settings

REPO = Path(__file__).resolve().parent.parent


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path)
    return str(excinfo.value)


def test_valid_config_loads(config_path):
    settings = load_settings(config_path)
    assert [loc.id for loc in settings.localities.localities] == ["workington", "maryport"]
    assert settings.database_url.endswith("var/tension.db")
    assert settings.sources.sources[0].every.total_seconds() == 60


def test_bundled_config_loads():
    settings = load_settings(REPO / "config" / "tension.yaml")
    ids = {loc.id for loc in settings.localities.localities}
    assert {"carlisle", "workington", "whitehaven", "maryport", "keswick"} <= ids
    assert len(settings.narratives.narratives) >= 8
    assert settings.main.retention_days == 28


def test_yaml_syntax_error_names_file_and_line(config_path):
    (config_path.parent / "sources.yaml").write_text("sources:\n  - id: a\n   kind: rss\n")
    message = error_of(config_path)
    assert "sources.yaml: line 3" in message and "invalid YAML" in message


def test_unknown_key_names_field_and_hints(config_path):
    (config_path.parent / "sources.yaml").write_text(
        "sources:\n  - {id: feed, kind: rss, url: 'https://example.org/rss', evry: 5m}\n"
    )
    message = error_of(config_path)
    assert "sources.yaml: sources[0].rss.evry: unknown key" in message
    assert "hint:" in message


def test_bad_value_names_field(config_path):
    (config_path.parent / "sources.yaml").write_text(
        "sources:\n  - {id: feed, kind: rss, url: 'not a url', every: soon}\n"
    )
    message = error_of(config_path)
    assert "sources[0].rss.url" in message and "sources[0].rss.every" in message
    assert "not a duration" in message


def test_a_duration_past_any_date_is_one_line(config_path):
    (config_path.parent / "sources.yaml").write_text(
        "sources:\n  - {id: feed, kind: rss, url: 'https://example.org/rss', every: 99999999999999999999d}\n"
    )
    message = error_of(config_path)
    assert "sources[0].rss.every" in message and "far too long for a duration" in message
    assert len(message.splitlines()) <= 2


def test_unknown_source_kind(config_path):
    (config_path.parent / "sources.yaml").write_text("sources:\n  - {id: feed, kind: fax}\n")
    assert "sources.yaml: sources[0]" in error_of(config_path)


def test_main_file_errors_name_the_main_file(config_path):
    config_path.write_text("retention_days: -3\nfiles: {localities: localities/test.yaml}\n")
    message = error_of(config_path)
    assert f"{config_path}: retention_days: Input should be greater than or equal to 1" in message


def test_missing_file_is_named(config_path):
    (config_path.parent / "narratives.yaml").unlink()
    assert "narratives.yaml: file not found" in error_of(config_path)


def test_every_file_error_is_reported_at_once(config_path):
    (config_path.parent / "narratives.yaml").write_text("narratives: [{id: Bad Id}]\n")
    (config_path.parent / "rules.yaml").write_text("rules: [{id: r, kind: threshold}]\n")
    message = error_of(config_path)
    assert "narratives.yaml: narratives[0].id" in message
    assert "rules.yaml: rules[0].threshold.summary" in message


def test_rule_naming_unknown_locality_is_caught(config_path):
    (config_path.parent / "rules.yaml").write_text(
        "rules:\n  - {id: r, kind: threshold, summary: s, metric: posts, above: 1, localities: [atlantis]}\n"
    )
    message = error_of(config_path)
    assert "rules.yaml: rules[0].localities[0]: unknown locality 'atlantis'" in message
    assert "hint: use an id from" in message


def test_sensitive_site_in_unknown_locality(config_path):
    path = config_path.parent / "localities" / "test.yaml"
    path.write_text(path.read_text().replace("locality: workington", "locality: nowhere"))
    assert "unknown locality 'nowhere'" in error_of(config_path)


def test_replay_path_must_exist(config_path):
    (config_path.parent / "posts.jsonl").unlink()
    assert "sources[0].path: file not found" in error_of(config_path)


def test_environment_overrides(config_path, monkeypatch, tmp_path):
    monkeypatch.setenv("TENSION_DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("TENSION_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings(config_path)
    assert settings.database_url == "postgresql://u@127.0.0.1/db"
    assert settings.data_dir == tmp_path / "elsewhere"


def test_bad_environment_value_is_named(config_path, monkeypatch):
    monkeypatch.setenv("TENSION_LOG_LEVEL", "LOUD")
    assert "environment: log_level" in error_of(config_path)


def test_secrets_are_masked(config_path, monkeypatch):
    monkeypatch.setenv("TENSION_PSEUDONYM_KEY", "a-very-secret-key-value-123456")
    settings = load_settings(config_path)
    assert "a-very-secret" not in repr(settings)


def test_repeated_ids_are_named(config_path):
    (config_path.parent / "narratives.yaml").write_text(
        "narratives:\n"
        "  - {id: a, title: t, status: 'false', summary: s, claims: [c]}\n"
        "  - {id: a, title: t, status: 'false', summary: s, claims: [c]}\n"
    )
    assert "narrative ids must be unique; repeated: a" in error_of(config_path)
