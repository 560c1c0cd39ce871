#!/usr/bin/env python3
"""Run commands alternately N times (env N, default 21, after 2 warm-up rounds); print each one's
median wall time and child CPU (user + system, from wait4), and the median of its per-run
ratio against the last command. Example:
  N=41 python3 tests/bench/alternate.py "target/release/slotscope check $SEED" \
    "redis-cli --cluster check $SEED"
"""
import os, sys, time, statistics
n = int(os.environ.get("N", "21"))
cmds = [c.split() for c in sys.argv[1:]]
walls = [[] for _ in cmds]; cpus = [[] for _ in cmds]
devnull = os.open(os.devnull, os.O_WRONLY)
for i in range(n + 2):
    for j, c in enumerate(cmds):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 1); os.dup2(devnull, 2)
            os.execvp(c[0], c)
        _, st, ru = os.wait4(pid, 0)
        w = time.perf_counter() - t0
        if i >= 2:
            walls[j].append(w * 1000); cpus[j].append((ru.ru_utime + ru.ru_stime) * 1000)
for j, c in enumerate(cmds):
    print(f"{' '.join(c)[:60]:60s} wall {statistics.median(walls[j]):7.1f} ms  cpu {statistics.median(cpus[j]):6.1f} ms")
last = len(cmds) - 1
for j in range(last):
    r = [a / b for a, b in zip(walls[j], walls[last])]
    print(f"ratio {j}/{last}: median {statistics.median(r):.2f}")
