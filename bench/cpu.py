"""Where the machine's CPU went during a measurement: CPU seconds per role of process, from /proc.

    before = snapshot(); ...load...; used = spent(before, snapshot())

`spent` gives, per role (Rasa replicas, action servers, nginx, PostgreSQL, Redis, the load generator —
this process —, the rest of the machine), the CPU seconds used between two snapshots (user + system,
processes that ended in between are missed: the benchmark's processes live through a level), plus the
machine's idle seconds over all cores (/proc/stat). Linux only; elsewhere both are empty.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
ROLES = (  # (role, words of the command line that say it), first match wins
    ("rasa", ("bot.rasa.server",)),
    ("actions", ("bot.action_server", "rasa_sdk")),
    ("nginx", ("nginx",)),
    ("postgresql", ("postgres",)),
    ("redis", ("redis-server",)),
)


def role(pid: int, cmdline: str) -> str:
    if pid == os.getpid():
        return "load generator"
    for name, words in ROLES:
        if any(word in cmdline for word in words):
            return name
    return "other"


def _processes() -> dict[int, tuple[str, float]]:
    found: dict[int, tuple[str, float]] = {}
    for entry in PROC.iterdir() if PROC.exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        utime, stime = int(fields[11]), int(fields[12])
        found[int(entry.name)] = (cmdline, (utime + stime) / TICKS)
    return found


def _idle() -> float:
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    return (int(first[4]) + int(first[5])) / TICKS  # idle + iowait, all cores


def snapshot() -> dict:
    return {"processes": _processes(), "idle": _idle()}


def spent(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per role between two snapshots, and "idle" (all cores)."""
    used: dict[str, float] = {}
    for pid, (cmdline, seconds) in after["processes"].items():
        start = before["processes"].get(pid)
        delta = seconds - (start[1] if start and start[0] == cmdline else 0.0)
        if delta > 0:
            name = role(pid, cmdline)
            used[name] = used.get(name, 0.0) + delta
    used = {name: round(value, 2) for name, value in sorted(used.items(), key=lambda item: -item[1])}
    used["idle"] = round(after["idle"] - before["idle"], 2)
    return used
