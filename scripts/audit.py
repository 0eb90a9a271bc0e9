"""Dependency audit of both lock files (requirements/rasa.txt, requirements/services.txt) with pip-audit.

    .venv-svc/bin/python scripts/audit.py            # `make audit`, part of `make test`
    .venv-svc/bin/python scripts/audit.py --record   # also rewrite security/findings.json

pip-audit has no offline database: it asks a vulnerability service (PyPI's JSON API, or OSV) about
each pinned version. So this step first asks the service about one known package (5 s at most):
- reachable: pip-audit runs on both files at once (`--no-deps --disable-pip`, exact pins); it fails
  when it reports a vulnerability that is not in security/allowlist.json (every entry there has its
  reason, written in the README's "Security" section, and is for the exact pinned version);
- not reachable (no network, or a mirror without vulnerability data): it prints
  "audit skipped: <reason>" and exits 0. The stored findings and the allow-list are still checked,
  offline, by tests/unit/test_dependency_audit.py.
AUDIT_SERVICE chooses the service (`pypi`, default, or `osv`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"rasa": ROOT / "requirements" / "rasa.txt", "services": ROOT / "requirements" / "services.txt"}
SECURITY = ROOT / "security"
ALLOWLIST = SECURITY / "allowlist.json"
FINDINGS = SECURITY / "findings.json"
PIP_AUDIT = ROOT / ".venv-svc" / "bin" / "pip-audit"
PROBES = {  # a request that answers with vulnerability data when the service is there
    "pypi": ("https://pypi.org/pypi/pip/23.0/json", None),  # a release's page, as pip-audit asks
    "osv": ("https://api.osv.dev/v1/query", json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"},
                                                        "version": "23.0"}).encode()),
}


def pins(lock: Path) -> dict[str, str]:
    """name (normalised) → pinned version of a `pip freeze` file."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalise(name)] = version.strip()
    return found


def normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def load_allowlist() -> list[dict]:
    return json.loads(ALLOWLIST.read_text(encoding="utf-8"))["ignored"]


def allowlist_problems(allowed: list[dict], readme: str) -> list[str]:
    """What is wrong with the allow-list: an entry without a reason in the README, or for a version
    that is no longer pinned (then it was upgraded, and the entry must go or be looked at again)."""
    problems = []
    locks = {name: pins(path) for name, path in LOCKS.items()}
    for entry in allowed:
        vid, package, version, lock = entry["id"], normalise(entry["package"]), entry["version"], entry["lock"]
        if vid not in readme:
            problems.append(f"{vid}: no reason in README.md's Security section")
        if not entry.get("reason"):
            problems.append(f"{vid}: no reason in {ALLOWLIST.name}")
        if locks.get(lock, {}).get(package) != version:
            problems.append(f"{vid}: {package}=={version} is not pinned in requirements/{lock}.txt any more")
    return problems


def unexplained(findings: dict, allowed: list[dict]) -> list[str]:
    """Vulnerabilities in `findings` (per lock file, pip-audit's JSON) that the allow-list does not cover."""
    covered = {(entry["lock"], normalise(entry["package"]), entry["version"], entry["id"]) for entry in allowed}
    left = []
    for lock, report in findings.items():
        for dependency in report.get("dependencies", []):
            for vuln in dependency.get("vulns", []):
                ids = {vuln["id"], *vuln.get("aliases", [])}
                key = (lock, normalise(dependency["name"]), dependency["version"])
                if not any((*key, vid) in covered for vid in ids):
                    fixes = ", ".join(vuln.get("fix_versions", [])) or "none"
                    left.append(f"{lock}: {dependency['name']}=={dependency['version']} {vuln['id']} (fixed in {fixes})")
    return left


def probe(service: str) -> str | None:
    """None when the service answers with vulnerability data, else why not."""
    url, data = PROBES[service]
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (a fixed https URL)
            payload = json.load(response)
    except urllib.error.HTTPError as error:
        return f"{url} answered HTTP {error.code} (no vulnerability data reachable from this machine)"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{url} is not reachable from this machine ({getattr(error, 'reason', error)})"
    if service == "pypi" and "vulnerabilities" not in payload:
        return f"{url} answered without vulnerability data (a mirror?)"
    return None


def run_pip_audit(service: str) -> dict[str, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {name: Path(tmp) / f"{name}.json" for name in LOCKS}
        procs = {name: subprocess.Popen([str(PIP_AUDIT), "-r", str(lock), "--no-deps", "--disable-pip", "-s", service,
                                         "--progress-spinner", "off", "--timeout", "10", "-f", "json",
                                         "-o", str(outputs[name])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
                 for name, lock in LOCKS.items()}
        reports = {}
        for name, proc in procs.items():
            _, err = proc.communicate(timeout=600)
            if not outputs[name].exists():  # exit 1 with a report means "vulnerabilities found"
                raise SystemExit(f"audit: pip-audit failed on {LOCKS[name].name}:\n{err[-2000:]}")
            reports[name] = json.loads(outputs[name].read_text())
        return reports


def summary(reports: dict[str, dict], service: str) -> dict:
    out = {}
    for name, report in reports.items():
        deps = report.get("dependencies", [])
        out[name] = {"service": service, "checked": date.today().isoformat(), "packages": len(deps),
                     "skipped": sorted(d["name"] for d in deps if d.get("skip_reason")),
                     "dependencies": [d for d in deps if d.get("vulns")]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help="rewrite security/findings.json from this run")
    args = parser.parse_args()
    problems = allowlist_problems(load_allowlist(), (ROOT / "README.md").read_text(encoding="utf-8"))
    if problems:
        print("audit: the allow-list is out of date:\n  " + "\n  ".join(problems))
        return 1
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    reason = probe(service)
    if reason is not None:
        print(f"audit skipped: {reason}; stored findings ({FINDINGS.relative_to(ROOT)}) and the allow-list "
              "are checked by tests/unit/test_dependency_audit.py")
        return 0
    reports = run_pip_audit(service)
    results = summary(reports, service)
    if all(result["packages"] and len(result["skipped"]) == result["packages"] for result in results.values()):
        print(f"audit skipped: {service} answered the probe but pip-audit could audit none of the pinned packages "
              "(every one 'not found'); stored findings are checked by tests/unit/test_dependency_audit.py")
        return 0
    if args.record:
        FINDINGS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    left = unexplained(results, load_allowlist())
    for name, result in results.items():
        print(f"audit {LOCKS[name].name}: {result['packages']} packages, {len(result['skipped'])} not found by {service}, "
              f"{sum(len(d['vulns']) for d in result['dependencies'])} known vulnerabilities")
    if left:
        print("audit: vulnerabilities without a fix and without a written reason (README, Security):\n  " + "\n  ".join(left))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
