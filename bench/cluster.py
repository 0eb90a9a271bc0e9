"""1 replica against N behind nginx, on PostgreSQL and Redis (`make cluster`'s processes, bot/cluster.py).

    .venv-svc/bin/python -m bench.cluster --replicas 1 2 --levels 20 50 --seconds 20

For each replica count, in one run: a fresh PostgreSQL database, the cluster started as `make cluster`
starts it (one action server per replica), the load of bench/load.py through nginx (msg/s, p50/p95/p99),
bursts of three messages from one person (which the replicas share), then the cluster stopped and the
database dropped. For each level also where the CPU went (bench/cpu.py): CPU milliseconds per message of
the Rasa replicas, the action servers, nginx, PostgreSQL, Redis and the load generator, and the idle time
left — on a machine whose cores the replicas share with everything else, the scaling of N replicas is
bounded by what the rest costs per message. Writes bench/results/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import cpu
from bench.load import BENCH_ENV, finish, reference_loop_seconds, run_bursts, run_level
from bot.cluster import Cluster, free_port, service_env
from bot.store.db import database_url
from tests.databases import ADMIN_URL, ensure_postgres, ensure_redis


def measure(replicas: int, levels: list[int], seconds: float, max_messages: int) -> dict:
    admin = make_url(ADMIN_URL)
    name = f"infomigra_bench_cluster_{uuid.uuid4().hex[:8]}"
    machine = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # ours: the fresh database
    env = service_env({**machine, **BENCH_ENV, "POSTGRES_HOST": admin.host or "127.0.0.1",
                       "POSTGRES_PORT": str(admin.port or 5432), "POSTGRES_USER": admin.username or "postgres",
                       "POSTGRES_PASSWORD": admin.password or "", "POSTGRES_DB": name})
    with tempfile.TemporaryDirectory() as run_dir:
        cluster = Cluster(replicas, replicas, "127.0.0.1", free_port(), Path(run_dir), env)
        try:
            cluster.start()
            url = f"{cluster.url}/webhooks/rest/webhook"
            headers = {"Authorization": f"Bearer {env['REST_CHANNEL_TOKEN']}"}
            asyncio.run(run_level(url, headers, 2, 3, 50))  # warm-up
            result: dict = {"replicas": replicas, "levels": []}
            for users in levels:
                before = cpu.snapshot()
                level = asyncio.run(run_level(url, headers, users, seconds, max_messages))
                used = cpu.spent(before, cpu.snapshot())
                answered = max(1, level["messages"] - level["errors"])
                level["cpu_seconds"] = used
                level["cpu_ms_per_message"] = {name: round(1000 * value / answered, 2) for name, value in used.items()}
                result["levels"].append(level)
                print(f"{replicas:>8} {level['users']:>5} {level['messages']:>8} {level['errors']:>6} {level['msg_per_s']:>7} "
                      f"{level['p50_ms']:>8} {level['p95_ms']:>8} {level['p99_ms']:>8}", flush=True)
                print(" " * 9 + "CPU ms per message: " + ", ".join(f"{name} {value}" for name, value
                                                                   in level["cpu_ms_per_message"].items()), flush=True)
            result["bursts"] = asyncio.run(run_bursts(url, headers))
            print(f"{replicas:>8} burst of 3 from one sender, last message to all answered: "
                  f"p50 {result['bursts']['p50_ms']} ms, max {result['bursts']['max_ms']} ms", flush=True)
            return result
        finally:
            cluster.stop()
            engine = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--levels", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--max-messages", type=int, default=5000, help="cap of messages per level")
    args = parser.parse_args()
    ensure_postgres()
    ensure_redis()
    report: dict = {"reference_loop_seconds_before": reference_loop_seconds(), "runs": []}
    print(f"machine reference (10M-step Python loop, best of 3): {report['reference_loop_seconds_before']} s")
    print(f"{'replicas':>8} {'users':>5} {'messages':>8} {'errors':>6} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for replicas in args.replicas:
        report["runs"].append(measure(replicas, args.levels, args.seconds, args.max_messages))
    finish(report, "cluster.json")


if __name__ == "__main__":
    main()
