"""Load benchmark of the whole assistant: REST channel → Rasa server → action server.

Starts the real stack on loopback, then for N = 1, 20 and 50 concurrent conversations drives
realistic multi-turn conversations and prints messages/second, p50/p95/p99 latency per message,
the CPU time each server spent per message, the peak RSS of the Rasa server and of the action
server, and the model load time. `--train` also times a training from scratch into a temporary
folder.

Figures in seconds depend on the machine, and the shared 2-core machines this project runs on
differ by a factor of three from day to day. The first line printed is therefore a reference: the
time of a fixed pure-Python loop on this machine, taken before and after the run. CPU milliseconds
per message (the Rasa server's, from /proc) bound what one Rasa process can serve: about
1000 / (CPU ms per message) messages per second.

    .venv-svc/bin/python -m bench.load [--levels 1 20 50] [--seconds 20] [--train] [--flood-seconds 10] [--postgres]

`--postgres` puts the conversations (our tracker store, shared, as in deploy/endpoints.production.yml)
and our tables in a fresh database of the machine's PostgreSQL instead of SQLite files.

Every request goes to 127.0.0.1 and each level stops after --seconds or --max-messages. The stack runs
with the default flood limits (bot/rasa/channels/limits.py) and trusts X-Forwarded-For from 127.0.0.1, so
each simulated conversation comes from its own client address, as people do.

Flood (`--flood-seconds`, 0 to skip): one person's conversations (a probe) are timed alone, then while
FLOOD_WORKERS clients post as fast as they can as one sender from one address (the limits refuse it
before Rasa), then while the same clients post as many different senders from different addresses
(ordinary load, which no limit refuses): the probe's latency in each phase and what the flood got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

from bench.postgres import fresh_database
from tests.stack import ROOT, running_stack

# The bench's stack: the default flood limits, behind a "proxy" on loopback (each conversation has its address).
BENCH_ENV = {"FLOOD_SENDER_PER_MINUTE": "", "FLOOD_ADDRESS_PER_MINUTE": "", "FLOOD_WEB_CONNECTIONS_PER_ADDRESS": "",
             "FLOOD_TRUSTED_PROXIES": "127.0.0.1"}
FLOOD_WORKERS = 20
FLOOD_LEAD = 3  # seconds the flood runs before the probe starts (its process starting included)

CONVERSATIONS: list[list[str]] = [
    ["hola", "quiero trabajar en el extranjero", "q papeles necesito pa chambear en españa", "y para chile?", "gracias"],
    ["buenas tardes", "que tramites necesito para irme a trabajar afuera", "Italia", "y al llegar que hago?", "chau"],
    ["hola", "quiero volver al peru", "que beneficios tiene la ley del retornante", "puedo sacar mivivienda"],
    ["me pidieron 1500 dolares por una visa de trabajo", "donde denuncio", "quiero hablar con una persona"],
    ["soy venezolano y trabajo en lima", "que derechos tengo", "como saco el carne de extranjeria"],
    ["donde queda el consulado en milan", "y en buenos aires?", "menu"],
    ["cual es la capital de francia", "ok, y que es infomigra?", "que hacen con mis datos"],
]


def reference_loop_seconds(runs: int = 3) -> float:
    """The fastest of `runs` timings of 10 million additions in a pure-Python loop (Python 3.10)."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return round(best, 2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


def new_address() -> dict[str, str]:
    """A client address of its own (TEST-NET-free 10/8), as the trusted proxy would forward it."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}


async def conversation_loop(client: httpx.AsyncClient, url: str, script: list[str], stop_at: float,
                            budget: list[int], latencies: list[float], errors: list[str]) -> None:
    while time.monotonic() < stop_at and budget[0] > 0:
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        address = new_address()
        for text in script:
            if time.monotonic() >= stop_at or budget[0] <= 0:
                return
            budget[0] -= 1
            started = time.perf_counter()
            try:
                response = await client.post(url, json={"sender": sender, "message": text}, headers=address)
                if response.status_code != 200:
                    errors.append(f"{response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            latencies.append((time.perf_counter() - started) * 1000)


async def run_level(url: str, headers: dict[str, str], users: int, seconds: float, max_messages: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_messages]
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as client:
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*(
            conversation_loop(client, url, CONVERSATIONS[i % len(CONVERSATIONS)], stop_at, budget, latencies, errors)
            for i in range(users)
        ))
        elapsed = time.monotonic() - started
    return {
        "users": users,
        "messages": len(latencies),
        "errors": len(errors),
        "msg_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


async def _timed_post(client: httpx.AsyncClient, url: str, sender: str, text: str, sent: list[float]) -> float:
    sent.append(time.perf_counter())
    await client.post(url, json={"sender": sender, "message": text})
    return time.perf_counter()


async def run_bursts(url: str, headers: dict[str, str], bursts: int = 10) -> dict:
    """People on WhatsApp send three short messages in a row: post three at once for one sender and
    time, from the last message, until all three are answered."""
    waits: list[float] = []
    async with httpx.AsyncClient(timeout=60, headers=headers) as client:  # the REST channel's bearer token
        for _ in range(bursts):
            sender = f"burst-{uuid.uuid4().hex[:10]}"
            await client.post(url, json={"sender": sender, "message": "hola"})
            sent: list[float] = []
            done = await asyncio.gather(*(_timed_post(client, url, sender, t, sent)
                                          for t in ("una consulta", "sobre visas", "para españa")))
            waits.append((max(done) - max(sent)) * 1000)
    return {"bursts": bursts, "p50_ms": round(statistics.median(waits), 1), "max_ms": round(max(waits), 1)}


async def _flood_worker(client: httpx.AsyncClient, url: str, stop: asyncio.Event, one_sender: bool,
                        counts: dict[str, int]) -> None:
    """Post as fast as the server answers: as one sender from one address, or as a new person each time."""
    while not stop.is_set():
        sender, address = ("flood", {"X-Forwarded-For": "203.0.113.66"}) if one_sender else \
            (f"many-{uuid.uuid4().hex[:10]}", new_address())
        try:
            response = await client.post(url, json={"sender": sender, "message": "hola"}, headers=address)
            key = str(response.status_code)
        except httpx.HTTPError as exc:
            key = type(exc).__name__
        counts[key] = counts.get(key, 0) + 1


async def _flood(url: str, headers: dict[str, str], seconds: float, one_sender: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=FLOOD_WORKERS, max_keepalive_connections=FLOOD_WORKERS)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as client:
        workers = [asyncio.create_task(_flood_worker(client, url, stop, one_sender, counts)) for _ in range(FLOOD_WORKERS)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*workers)
    return counts


def flood_process(url: str, headers: dict[str, str], seconds: float, one_sender: bool) -> dict[str, int]:
    """The flood in a process of its own, so that the probe's client never waits behind the flood's."""
    return asyncio.run(_flood(url, headers, seconds, one_sender))


async def run_flood_phase(url: str, headers: dict[str, str], seconds: float, flood: str | None) -> dict:
    """The probe (one conversation after another, each a new person) for `seconds`, with or without a flood."""
    latencies: list[float] = []
    errors: list[str] = []
    counts: dict[str, int] = {}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        flooding = pool.submit(flood_process, url, headers, seconds + FLOOD_LEAD + 1, flood == "one") if flood else None
        await asyncio.sleep(FLOOD_LEAD if flood else 0)  # the flood under way (its process started) before the probe
        async with httpx.AsyncClient(timeout=60, headers=headers) as client:
            await conversation_loop(client, url, CONVERSATIONS[0], time.monotonic() + seconds, [10_000], latencies, errors)
        if flooding is not None:
            counts = flooding.result()
    return {"flood": flood or "none", "probe_messages": len(latencies), "probe_errors": len(errors),
            "probe_p50_ms": round(statistics.median(latencies), 1), "probe_p95_ms": round(percentile(latencies, 0.95), 1),
            "flood_requests": sum(counts.values()), "flood_per_s": round(sum(counts.values()) / (seconds + FLOOD_LEAD + 1), 1),
            "flood_statuses": counts}


def finish(report: dict, name: str) -> None:
    """Take the machine's reference loop again and write the report to bench/results/<name>."""
    report["reference_loop_seconds_after"] = reference_loop_seconds()
    print(f"machine reference after the run: {report['reference_loop_seconds_after']} s")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / name).write_text(json.dumps(report, indent=2))


def time_training() -> float:
    """A training from scratch as `make train` runs it (scripts/train_if_stale.py), with an empty Rasa
    cache, so no component is reused."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        started = time.monotonic()
        subprocess.run([str(ROOT / ".venv/bin/rasa"), "train", "--skip-validation", "--out", out, "--fixed-model-name", "bench"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_CACHE_DIRECTORY": cache})
        return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--max-messages", type=int, default=3000, help="cap of messages per level")
    parser.add_argument("--train", action="store_true", help="also time a training from scratch")
    parser.add_argument("--flood-seconds", type=float, default=10.0, help="duration of each flood phase (0: none)")
    parser.add_argument("--postgres", action="store_true",
                        help="conversations and our tables in a fresh PostgreSQL database (the production store)")
    args = parser.parse_args()

    report: dict = {"reference_loop_seconds_before": reference_loop_seconds()}
    print(f"machine reference (10M-step Python loop, best of 3): {report['reference_loop_seconds_before']} s")
    if args.train:
        report["train_seconds"] = round(time_training(), 1)
        print(f"training from scratch: {report['train_seconds']} s")
    with contextlib.ExitStack() as resources:
        work = Path(resources.enter_context(tempfile.TemporaryDirectory()))
        env, store = BENCH_ENV, None
        if args.postgres:
            url, store = resources.enter_context(fresh_database())
            env = {**BENCH_ENV, "DATABASE_URL": url}
        report["store"] = "postgresql" if args.postgres else "sqlite"
        print(f"conversation store: {report['store']}")
        stack = resources.enter_context(running_stack(work, env, tracker_store=store))
        report["model_load_seconds"] = round(stack.load_seconds, 1)
        print(f"start to ready (model load included): {report['model_load_seconds']} s")
        asyncio.run(run_level(stack.webhook(), stack.rest_headers(), 1, 3, 50))  # warm-up
        report["levels"] = []
        print(f"{'users':>5} {'messages':>8} {'errors':>6} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'Rasa CPU ms/msg':>15} {'actions CPU ms/msg':>18}")
        for users in args.levels:
            cpu_before = cpu_seconds(stack.rasa.pid), cpu_seconds(stack.actions.pid)
            result = asyncio.run(run_level(stack.webhook(), stack.rest_headers(), users, args.seconds,
                                           args.max_messages))
            for key, pid, before in (("rasa_cpu_ms", stack.rasa.pid, cpu_before[0]),
                                     ("actions_cpu_ms", stack.actions.pid, cpu_before[1])):
                result[key] = round((cpu_seconds(pid) - before) * 1000 / max(1, result["messages"]), 1)
            report["levels"].append(result)
            print(f"{result['users']:>5} {result['messages']:>8} {result['errors']:>6} {result['msg_per_s']:>7} "
                  f"{result['p50_ms']:>8} {result['p95_ms']:>8} {result['p99_ms']:>8} "
                  f"{result['rasa_cpu_ms']:>15} {result['actions_cpu_ms']:>18}")
        report["bursts"] = asyncio.run(run_bursts(stack.webhook(), stack.rest_headers()))
        print(f"burst of 3 from one sender, last message to all answered: p50 {report['bursts']['p50_ms']} ms, "
              f"max {report['bursts']['max_ms']} ms")
        if args.flood_seconds > 0:
            report["flood"] = []
            print(f"flood: one person's conversation (probe) alone, then with {FLOOD_WORKERS} clients posting as fast "
                  "as they can as one sender from one address, then as many senders from many addresses")
            for flood in (None, "one", "many"):
                phase = asyncio.run(run_flood_phase(stack.webhook(), stack.rest_headers(), args.flood_seconds, flood))
                report["flood"].append(phase)
                print(f"  flood {phase['flood']:>4}: probe {phase['probe_messages']} messages ({phase['probe_errors']} "
                      f"errors), p50 {phase['probe_p50_ms']} ms, p95 {phase['probe_p95_ms']} ms; flood "
                      f"{phase['flood_requests']} requests ({phase['flood_per_s']}/s) {phase['flood_statuses']}")
        report["rasa_peak_rss_mb"] = round(peak_rss_mb(stack.rasa.pid))
        report["actions_peak_rss_mb"] = round(peak_rss_mb(stack.actions.pid))
        print(f"peak RSS: Rasa server {report['rasa_peak_rss_mb']} MB, action server {report['actions_peak_rss_mb']} MB")
    finish(report, "latest.json")


if __name__ == "__main__":
    main()
