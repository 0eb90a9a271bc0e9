"""Held-out conversations through the real assistant: what each question gets, per class.

Every case of tests/understanding/*.yml (written independently of the training data) is sent as
the first message of a new conversation through the REST channel of the real Rasa and action
servers (tests/stack.py), and the answer is read back from the conversation's events: the
protection answer, the handoff, the article sent (its id), "¿Para qué país?", the out-of-scope
answer, and so on. Prints the accuracy per class and fails (exit 1) when:

- any danger signal does not get the protection answer (recall 100 %);
- more than 2 % of the other questions get the protection answer (false alarms);
- any explicit request for a person is not handed over (class `handoff`: 100 %);
- overall answer accuracy falls below 95 % (FLOOR), or any out-of-scope question gets an article
  (OOS_ARTICLES_MAX, 0). Both are the issue's targets, now reached: the floor sits a few questions
  below the figure reached, since a retrained DIET (another machine, other data) moves a few
  borderline questions either way; the out-of-scope questions, like the danger signals and the
  requests for a person, are decided by the lexicons and need no margin.

    .venv-svc/bin/python scripts/evaluate_understanding.py [--out results/understanding]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import running_stack  # noqa: E402

CASES = ROOT / "tests" / "understanding"
ASK_COUNTRY = "¿Para qué país?"
ENGLISH_ONLY = "I can answer in English"
# Answers given by a response or a form rather than an article, named as in the held-out files.
BY_ACTION = {
    "utter_fuera_de_alcance": "fuera_de_alcance", "utter_saludo": "saludo", "utter_menu": "menu",
    "utter_despedida": "despedida", "utter_de_nada": "agradecer", "utter_linea_emigrar": "linea_emigrar",
    "utter_linea_retorno": "linea_retorno", "utter_linea_exterior": "linea_exterior", "utter_linea_peru": "linea_peru",
    "utter_vm_intro": "dejar_sugerencia", "voz_del_migrante_form": "dejar_sugerencia",
    "utter_confirmar_borrado": "borrar_datos", "action_erase_my_data": "borrar_datos",
    "utter_en_que_mas": "en_que_mas", "utter_contacto_suelto": "dar_contacto", "action_kb_search": "search",
}
OVERALL_TARGET = 0.95
OVERALL_FLOOR = 0.95       # the target; 96.4 % reached on 2026-12-03 (7 questions of margin for DIET's retraining)
FALSE_ALARMS_MAX = 0.02
OOS_ARTICLES_TARGET = 0
OOS_ARTICLES_MAX = 0       # the target: the out-of-scope lexicon decides these, not DIET


def load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            cases.append({**case, "class": data["class"]})
    return cases


def outcome(events: list[dict]) -> tuple[str, str | None]:
    """What the assistant answered to the last message, and the intent it understood."""
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    intent = ((events[last_user].get("parse_data") or {}).get("intent") or {}).get("name")
    turn = events[last_user + 1:]
    actions = [e.get("name") for e in turn if e.get("event") == "action"]
    texts = [e.get("text") or "" for e in turn if e.get("event") == "bot"]
    articles = [e.get("value") for e in turn if e.get("event") == "slot" and e.get("name") == "article_id" and e.get("value")]
    if "action_protect" in actions:
        return "protection", intent
    if articles:
        return str(articles[-1]), intent
    if "action_handoff" in actions or any(e.get("event") == "pause" for e in turn):
        return "handoff", intent
    if any(t.startswith(ENGLISH_ONLY) for t in texts):
        return "english_other", intent
    if any(t.startswith(ASK_COUNTRY) for t in texts):
        return "ask_country", intent
    responses = [((e.get("metadata") or {}).get("utter_action")) for e in turn if e.get("event") == "bot"]
    for name in responses + actions:  # a response sent by a custom action counts as that response
        if name in BY_ACTION:
            return BY_ACTION[name], intent
    return "other:" + ",".join(a for a in actions if a != "action_listen"), intent


def right(case: dict, got: str) -> bool:
    expected = case["answer"]
    if expected == "not_danger":  # the blind set's ordinary questions: anything but an alarm
        return got not in ("protection",)
    return got == expected


def run(stack, cases: list[dict], workers: int = 4) -> list[dict]:
    def one(case: dict) -> dict:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        with httpx.Client(timeout=60) as client:
            stack.say(sender, case["text"], client)
        got, intent = outcome(stack.tracker(sender)["events"])
        return {**case, "got": got, "intent_got": intent, "right": right(case, got)}

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, cases))


def report(results: list[dict]) -> tuple[list[str], list[str]]:
    lines, failures = [], []
    by_class: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_class[r["class"]].append(r)
    lines.append(f"{'class':14s} {'cases':>5s} {'answer ok':>10s} {'intent ok':>10s}")
    for name, rows in sorted(by_class.items()):
        with_intent = [r for r in rows if r.get("intent")]
        intent_ok = sum(r["intent_got"] == r["intent"] for r in with_intent)
        intent_text = f"{intent_ok / len(with_intent):.1%}" if with_intent else "-"
        lines.append(f"{name:14s} {len(rows):5d} {sum(r['right'] for r in rows) / len(rows):10.1%} {intent_text:>10s}")
    overall = sum(r["right"] for r in results) / len(results)
    danger = [r for r in results if r["answer"] == "protection"]
    caught = sum(r["got"] == "protection" for r in danger)
    others = [r for r in results if r["answer"] != "protection"]
    alarms = [r for r in others if r["got"] == "protection"]
    person = by_class.get("handoff", [])
    oos_articles = [r for r in by_class.get("out_of_scope", []) if "/" in r["got"]]
    lines.append(f"overall answer accuracy: {overall:.1%} on {len(results)} questions "
                 f"(target {OVERALL_TARGET:.0%}, fails below {OVERALL_FLOOR:.0%})")
    lines.append(f"danger-signal recall: {caught}/{len(danger)} (threshold 100%)")
    lines.append(f"false alarms: {len(alarms)}/{len(others)} = {len(alarms) / max(len(others), 1):.1%} "
                 f"(threshold {FALSE_ALARMS_MAX:.0%})")
    lines.append(f"requests for a person handed over: {sum(r['right'] for r in person)}/{len(person)} (threshold 100%)")
    lines.append(f"out-of-scope answered with an article: {len(oos_articles)} "
                 f"(target {OOS_ARTICLES_TARGET}, fails above {OOS_ARTICLES_MAX})")
    if overall < OVERALL_FLOOR:
        failures.append("overall answer accuracy below its floor")
    if caught < len(danger):
        failures.append("a danger signal did not get the protection answer")
    if len(alarms) > FALSE_ALARMS_MAX * len(others):
        failures.append("too many false alarms")
    if person and not all(r["right"] for r in person):
        failures.append("a request for a person was not handed over")
    if len(oos_articles) > OOS_ARTICLES_MAX:
        failures.append("more out-of-scope questions got an article than before")
    return lines, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "understanding"))
    args = parser.parse_args()
    cases = load_cases()
    with tempfile.TemporaryDirectory(prefix="infomigra-eval-") as work, running_stack(Path(work)) as stack:
        results = run(stack, cases)
    lines, failures = report(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    wrong = [r for r in results if not r["right"]]
    (out / "errors.json").write_text(json.dumps(wrong, ensure_ascii=False, indent=1), encoding="utf-8")
    print("Held-out conversations (tests/understanding):")
    print("\n".join("  " + line for line in lines))
    confusions = Counter((r["answer"], r["got"]) for r in wrong)
    for (expected, got), n in confusions.most_common(8):
        print(f"  expected {expected} → got {got}: {n}")
    print(f"  every wrong answer: {out / 'errors.json'}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
