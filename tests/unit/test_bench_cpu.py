"""bench/cpu.py: CPU seconds per role of process between two snapshots of /proc."""

import os

from bench import cpu


def test_roles_by_command_line():
    assert cpu.role(os.getpid(), "whatever") == "load generator"
    assert cpu.role(1, "/w/.venv/bin/python -m bot.rasa.server run --model m") == "rasa"
    assert cpu.role(1, "/w/.venv-svc/bin/python -m bot.action_server --actions actions") == "actions"
    assert cpu.role(1, "nginx: worker process") == "nginx"
    assert cpu.role(1, "postgres: 15/main: postgres infomigra 127.0.0.1(5000) idle") == "postgresql"
    assert cpu.role(1, "redis-server 127.0.0.1:6379") == "redis"
    assert cpu.role(1, "/usr/bin/bash") == "other"


def test_spent_counts_deltas_new_processes_and_a_reused_pid_from_zero():
    before = {"processes": {10: ("python -m bot.rasa.server", 5.0), 11: ("nginx: worker", 1.0),
                            12: ("old", 9.0)}, "idle": 100.0}
    after = {"processes": {10: ("python -m bot.rasa.server", 7.5), 11: ("nginx: worker", 1.2),
                           12: ("postgres: backend", 0.3), 13: ("python -m bot.rasa.server", 0.5)}, "idle": 101.0}
    assert cpu.spent(before, after) == {"rasa": 3.0, "postgresql": 0.3, "nginx": 0.2, "idle": 1.0}


def test_a_real_snapshot_sees_this_process_work():
    before = cpu.snapshot()
    sum(i * i for i in range(2_000_000))
    used = cpu.spent(before, cpu.snapshot())
    assert used.get("load generator", 0) > 0 and "idle" in used
