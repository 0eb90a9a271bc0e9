"""The full fuzz: 10,000 generated requests (or Socket.IO frames) per public endpoint.

    .venv-svc/bin/python -m bench.fuzz                    # 10,000 per endpoint (an hour or more on 2 cores)
    .venv-svc/bin/python -m bench.fuzz --examples 1000 -k rest

Runs tests/e2e/test_fuzz.py (`make test` runs it with FUZZ_EXAMPLES=150) with the count asked and no
time limit per endpoint, then prints each endpoint's figures (requests, statuses, 5xx, RSS before and
after, seconds) and writes them to bench/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "results" / "fuzz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="per endpoint (default 10,000)")
    parser.add_argument("--seconds", type=float, default=4 * 3600, help="time limit per endpoint")
    parser.add_argument("-k", default="", help="pytest -k expression, e.g. 'rest or desk'")
    args = parser.parse_args()
    for old in FIGURES.glob("*.json"):
        old.unlink()
    env = {**os.environ, "FUZZ_EXAMPLES": str(args.examples), "FUZZ_SECONDS": str(args.seconds)}
    started = time.monotonic()
    command = [str(ROOT / ".venv-svc/bin/pytest"), "-q", "-s", "-p", "no:cacheprovider", "-W",
               "ignore::hypothesis.errors.HypothesisWarning", "tests/e2e/test_fuzz.py", *(["-k", args.k] if args.k else [])]
    code = subprocess.run(command, cwd=ROOT, env=env).returncode
    figures = [json.loads(path.read_text()) for path in sorted(FIGURES.glob("*.json"))]
    out = ROOT / "bench" / "results" / "fuzz.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"examples": args.examples, "exit": code, "seconds": round(time.monotonic() - started),
                               "endpoints": figures}, indent=2) + "\n")
    print(f"\n{'endpoint':10} {'requests':>9} {'5xx':>4} {'seconds':>8}  RSS MB before → after")
    for f in figures:
        rss = ", ".join(f"{who} {f['rss_mb_before'][who]:.0f} → {f['rss_mb_after'][who]:.0f}" for who in f["rss_mb_before"])
        print(f"{f['endpoint']:10} {f['requests']:>9} {f['server_errors']:>4} {f['seconds']:>8}  {rss}")
    print(f"pytest exit {code}; figures in {out.relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
