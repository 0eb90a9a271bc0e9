"""Fail when the held-out NLU evaluation is below its threshold, and print the figure.

Reads the report written by `rasa test nlu --nlu tests/nlu --out results/nlu`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

THRESHOLD = 0.90


def main(report_dir: str = "results/nlu") -> int:
    report = json.loads((Path(report_dir) / "intent_report.json").read_text())
    accuracy = report["accuracy"]
    support = report["weighted avg"]["support"]
    weak = sorted(
        (name, v["f1-score"], v["support"])
        for name, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and name not in ("macro avg", "weighted avg", "micro avg")
        and v["f1-score"] < 0.8
    )
    print(f"NLU held-out intent accuracy: {accuracy:.1%} on {support} questions (threshold {THRESHOLD:.0%})")
    for name, f1, n in weak:
        print(f"  weak intent: {name} f1={f1:.2f} ({n} questions)")
    errors = Path(report_dir) / "intent_errors.json"
    if errors.exists():
        print(f"  misclassified questions: {errors}")
    if accuracy < THRESHOLD:
        print("FAILED: held-out accuracy below the threshold")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
