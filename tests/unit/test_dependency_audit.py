"""The dependency audit's stored data, offline (scripts/audit.py; `make audit` skips itself when no
vulnerability service is reachable): every ignored vulnerability has its reason in the README and is
for a version still pinned, and every stored finding is either fixed by a newer pin or ignored."""

from __future__ import annotations

import json
import sys

import pytest

from tests.stack import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import audit  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_ignored_vulnerability_has_a_written_reason_and_a_pinned_version():
    assert audit.allowlist_problems(audit.load_allowlist(), README) == []


def test_every_stored_finding_is_fixed_by_a_newer_pin_or_ignored_with_a_reason():
    findings = json.loads(audit.FINDINGS.read_text(encoding="utf-8"))
    assert set(findings) == set(audit.LOCKS), "findings for both lock files"
    pinned = {lock: audit.pins(path) for lock, path in audit.LOCKS.items()}
    still_pinned = {lock: {**report, "dependencies": [d for d in report["dependencies"]
                                                      if pinned[lock].get(audit.normalise(d["name"])) == d["version"]]}
                    for lock, report in findings.items()}
    assert audit.unexplained(still_pinned, audit.load_allowlist()) == []


def test_pip_audit_is_pinned_with_the_services():
    assert "pip-audit" in audit.pins(ROOT / "requirements" / "services.txt")


REPORT = {"rasa": {"dependencies": [{"name": "Foo_Bar", "version": "1.0", "vulns": [
    {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-1", "GHSA-xxxx"], "fix_versions": ["2.0"]}]}]}}


@pytest.mark.parametrize(("allowed", "left"), [
    ([], 1),
    ([{"id": "CVE-2099-1", "package": "foo-bar", "version": "1.0", "lock": "rasa"}], 0),  # by an alias
    ([{"id": "PYSEC-2099-1", "package": "foo-bar", "version": "0.9", "lock": "rasa"}], 1),  # another version
    ([{"id": "PYSEC-2099-1", "package": "foo-bar", "version": "1.0", "lock": "services"}], 1),  # another file
])
def test_a_finding_is_explained_only_by_its_own_entry(allowed, left):
    assert len(audit.unexplained(REPORT, allowed)) == left


def test_an_entry_without_a_reason_or_for_an_unpinned_version_is_reported():
    rasa = audit.pins(audit.LOCKS["rasa"])
    entry = {"id": "GHSA-test-only", "package": "rasa", "version": rasa["rasa"], "lock": "rasa", "reason": "x"}
    assert audit.allowlist_problems([entry], "GHSA-test-only") == []
    assert len(audit.allowlist_problems([entry], "")) == 1
    assert len(audit.allowlist_problems([{**entry, "version": "0.0.1"}], "GHSA-test-only")) == 1
    assert len(audit.allowlist_problems([{**entry, "reason": ""}], "GHSA-test-only")) == 1
