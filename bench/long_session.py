"""Long-session benchmark: one conversation of N messages through the real stack, over REST.

A person (or a script) who keeps talking stays in one Rasa session (60 minutes without a message end
it). This drives one sender through N messages, one after another, on the stack of bench.load (the
REST channel → the Rasa server → the action server, SQLite stores), and prints for messages 10, 100,
500 and 1,000 (those up to N) the median latency of a window of WINDOW messages (one pass of the script) around each, and the
CPU milliseconds per message that the Rasa server and the action server spent in that window
(/proc, read between messages). The question it answers: does a message cost more the longer the
session is (issue 15: the 1,000th message should cost at most 1.5 times the 10th).

    .venv-svc/bin/python -m bench.long_session [--messages 1000]

Every request goes to 127.0.0.1; the flood limits are off (one sender sends far faster than a person).
The script avoids the turns that hand the conversation over (an advisor, a danger signal) or open a
form, so every message is answered by the assistant. Writes bench/results/long_session.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.load import cpu_seconds, finish, reference_loop_seconds
from tests.stack import running_stack

MARKS = (10, 100, 500, 1000)

# Messages answered by the assistant itself: articles, menus, country follow-ups, the unsure search.
SCRIPT = [
    "hola", "quiero trabajar en el extranjero", "q papeles necesito pa chambear en españa", "y para chile?",
    "gracias", "que tramites necesito para irme a trabajar afuera", "Italia", "y al llegar que hago?",
    "quiero volver al peru", "que beneficios tiene la ley del retornante", "soy venezolano y trabajo en lima",
    "que derechos tengo", "donde queda el consulado en milan", "y en buenos aires?", "menu",
    "cual es la capital de francia", "ok, y que es infomigra?",
]
# Messages around each mark (the mark in the middle, clipped to the conversation): one pass of SCRIPT, so
# that every point measures the same mix of messages (a knowledge search costs more than a menu).
WINDOW = len(SCRIPT)


def window(mark: int, total: int) -> range:
    start = max(1, min(mark - WINDOW // 2, total - WINDOW + 1))
    return range(start, min(total, start + WINDOW - 1) + 1)


def run(url: str, headers: dict[str, str], messages: int, rasa_pid: int, actions_pid: int) -> dict:
    sender = f"long-{uuid.uuid4().hex[:10]}"
    latency: list[float] = [0.0]  # 1-based: latency[k] is message k's
    rasa_cpu, actions_cpu = [cpu_seconds(rasa_pid)], [cpu_seconds(actions_pid)]  # after message k
    silent = 0
    with httpx.Client(timeout=120, headers=headers) as client:
        for k in range(1, messages + 1):
            started = time.perf_counter()
            response = client.post(url, json={"sender": sender, "message": SCRIPT[(k - 1) % len(SCRIPT)]})
            latency.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            silent += not response.json()
            rasa_cpu.append(cpu_seconds(rasa_pid))
            actions_cpu.append(cpu_seconds(actions_pid))
    marks = []
    for mark in (m for m in MARKS if m <= messages):
        w = window(mark, messages)
        marks.append({
            "message": mark, "window": [w.start, w[-1]],
            "p50_ms": round(statistics.median(latency[k] for k in w), 1),
            "rasa_cpu_ms": round((rasa_cpu[w[-1]] - rasa_cpu[w.start - 1]) * 1000 / len(w), 1),
            "actions_cpu_ms": round((actions_cpu[w[-1]] - actions_cpu[w.start - 1]) * 1000 / len(w), 1),
        })
    return {"sender": sender, "messages": messages, "unanswered": silent, "marks": marks,
            "rasa_cpu_ms_per_message": round((rasa_cpu[-1] - rasa_cpu[0]) * 1000 / messages, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="messages in the one session")
    args = parser.parse_args()

    report: dict = {"reference_loop_seconds_before": reference_loop_seconds()}
    print(f"machine reference (10M-step Python loop, best of 3): {report['reference_loop_seconds_before']} s")
    with tempfile.TemporaryDirectory() as work, running_stack(Path(work)) as stack:
        print(f"Rasa server pid {stack.rasa.pid}, ready in {stack.load_seconds:.1f} s", flush=True)
        for text in SCRIPT[:5]:  # warm-up, another sender
            stack.say("long-warm-up", text)
        result = run(stack.webhook(), stack.rest_headers(), args.messages, stack.rasa.pid, stack.actions.pid)
    report.update(result)
    print(f"one session of {result['messages']} messages ({result['unanswered']} unanswered); "
          f"Rasa CPU {result['rasa_cpu_ms_per_message']} ms/message over the whole session")
    print(f"{'message':>7} {'window':>11} {'p50 ms':>8} {'Rasa CPU ms/msg':>15} {'actions CPU ms/msg':>18}")
    for m in result["marks"]:
        print(f"{m['message']:>7} {m['window'][0]:>5}-{m['window'][1]:<5} {m['p50_ms']:>8} {m['rasa_cpu_ms']:>15} "
              f"{m['actions_cpu_ms']:>18}")
    first, last = result["marks"][0], result["marks"][-1]
    print(f"message {last['message']} / message {first['message']}: latency ×{last['p50_ms'] / first['p50_ms']:.2f}, "
          f"Rasa CPU ×{last['rasa_cpu_ms'] / max(first['rasa_cpu_ms'], 0.1):.2f}")
    finish(report, "long_session.json")


if __name__ == "__main__":
    main()
