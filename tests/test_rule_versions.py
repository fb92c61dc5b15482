"""Saved versions of the rules file (alerts.rule_versions, `tension rules save|versions|diff|revert`).

Saving validates like the service does at start, keeps every text (the hand-edited one too),
writes the file atomically and audits who and why; a revert is one more version.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alerts.rule_versions import diff, list_versions, revert, save_rules, sha256
from conftest import RULES, utc
from monitor import cli
from monitor.cli import app
from monitor.errors import ConfigError, TensionError
from monitor.store import Store
from monitor.store.schema import audit_log, rule_versions

NOW = utc(2026, 11, 24, 9)
RAISED = RULES.replace("above: 0.2", "above: 0.3")
runner = CliRunner()
cli.out.width = cli.err.width = 240


def audit(store) -> list[tuple]:
    with store.transaction() as conn:
        return [(r.actor, r.action, r.object_id, r.detail) for r in conn.execute(
            sa.select(audit_log).order_by(audit_log.c.id))]


def test_save_keeps_both_versions_rewrites_the_file_and_audits(store, config_path):
    rules_file = config_path.parent / "rules.yaml"
    saved = save_rules(config_path, store, RAISED, "ana", "too many alerts at 20%", now=NOW)
    assert rules_file.read_text() == RAISED
    assert not [p for p in config_path.parent.iterdir() if p.name.endswith(".tmp")]
    versions = list_versions(store)
    assert [(v.id, v.created_by, v.yaml) for v in versions] == [(1, "(file on disk)", RULES),
                                                                (2, "ana", RAISED)]
    assert saved == versions[1] and saved.sha256 == sha256(RAISED)
    [(actor, action, object_id, detail)] = audit(store)
    assert (actor, action, object_id) == ("ana", "rules.save", "2")
    assert detail["reason"] == "too many alerts at 20%" and detail["previous_version"] == 1
    assert detail["changed"] == ["hate-high"] and detail["added"] == detail["removed"] == []

    text = diff(store, 1, 2)
    assert text.startswith("--- version 1 (2026-11-24 09:00 UTC, (file on disk))\n+++ version 2")
    assert "\n-" in text and "above: 0.2" in text and "\n+" in text and "above: 0.3" in text
    assert diff(store, 2, 2) == ""

    back = revert(store, config_path, 1, "ben", "0.3 missed Saturday", now=NOW)
    assert rules_file.read_text() == RULES and back.id == 3 and back.yaml == RULES
    assert audit(store)[-1][:3] == ("ben", "rules.revert", "3")
    assert audit(store)[-1][3]["reverted_to"] == 1 and audit(store)[-1][3]["previous_version"] == 2
    assert len(list_versions(store)) == 3  # the file matched version 2, so no extra on-disk copy

    with pytest.raises(TensionError, match="already holds these rules; nothing saved"):
        save_rules(config_path, store, RULES, "ben", "again", now=NOW)
    with pytest.raises(TensionError, match="no rules version 9"):
        revert(store, config_path, 9, "ben", "x")
    with pytest.raises(TensionError, match="--by"):
        save_rules(config_path, store, RAISED, " ", "why", now=NOW)


def test_a_hand_edit_since_the_last_save_is_kept_as_its_own_version(store, config_path):
    rules_file = config_path.parent / "rules.yaml"
    save_rules(config_path, store, RAISED, "ana", "first", now=NOW)
    edited = RAISED.replace("for: 30m", "for: 1h")
    rules_file.write_text(edited)
    save_rules(config_path, store, RULES, "ana", "second", now=NOW)
    assert [v.yaml for v in list_versions(store)] == [RULES, RAISED, edited, RULES]


INVALID = [
    ("rules:\n  - {id: hate-high, kind: threshold, summary: s, metric: hate_share, abov: 0.2}\n",
     "rules[0].threshold.abov: unknown key"),
    ("rules:\n  - {id: hate-high, kind: threshold, summary: s, metric: hate_share, above: 0.2,\n"
     "     localities: [nowhere]}\n", "rules[0].localities[0]: unknown locality 'nowhere'"),
    ("rules:\n  - {id: hate-high, kind: threshold, summary: s, metric: hate_share, above: high}\n",
     "rules[0].threshold.above: Input should be a valid number"),
    ("rules: [\n", "line 2, column 1: invalid YAML"),
]


@pytest.mark.parametrize("text, message", INVALID)
def test_invalid_rules_are_refused_naming_file_and_field_and_nothing_is_written(store, config_path,
                                                                               text, message):
    rules_file = config_path.parent / "rules.yaml"
    with pytest.raises(ConfigError) as error:
        save_rules(config_path, store, text, "ana", "why", now=NOW, source="candidate.yaml")
    assert str(error.value).startswith("candidate.yaml: ") and message in str(error.value)
    assert rules_file.read_text() == RULES
    assert list_versions(store) == [] and audit(store) == []


def test_a_broken_rules_file_can_still_be_replaced(store, config_path):
    rules_file = config_path.parent / "rules.yaml"
    rules_file.write_text("rules: [\n")
    save_rules(config_path, store, RULES, "ana", "fix the file", now=NOW)
    assert rules_file.read_text() == RULES
    assert [v.yaml for v in list_versions(store)] == ["rules: [\n", RULES]
    assert audit(store)[0][3]["previous_valid"] is False


# -- the command line ---------------------------------------------------------------------------

def tension(config_path, *args):
    return runner.invoke(app, ["--config", str(config_path), *args])


def test_cli_save_versions_diff_revert(config_path, tmp_path):
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(RAISED)
    saved = tension(config_path, "rules", "save", str(candidate), "--by", "ana", "--reason", "fewer alerts")
    assert saved.exit_code == 0, saved.output
    assert "rules version 2 saved" in saved.output
    listed = tension(config_path, "rules", "versions")
    assert listed.exit_code == 0 and "fewer alerts" in listed.output and "current" in listed.output
    shown = tension(config_path, "rules", "diff", "1", "2")
    assert "-  - {id: hate-high" in shown.output and "above: 0.3" in shown.output
    reverted = tension(config_path, "rules", "revert", "1", "--by", "ben", "--reason", "missed one")
    assert reverted.exit_code == 0 and "rules version 3 saved (the text of version 1)" in reverted.output
    assert (config_path.parent / "rules.yaml").read_text() == RULES

    candidate.write_text(RAISED.replace("[workington]", "[nowhere]"))
    refused = tension(config_path, "rules", "save", str(candidate), "--by", "ana", "--reason", "x")
    assert refused.exit_code == 2
    assert f"{candidate}: rules[0].localities[0]: unknown locality 'nowhere'" in refused.output
    missing = tension(config_path, "rules", "diff", "1", "7")
    assert missing.exit_code == 2 and "no rules version 7" in missing.output
    store = Store.open(f"sqlite:///{config_path.parent / 'var' / 'tension.db'}")
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(rule_versions)) == 3
    store.close()
