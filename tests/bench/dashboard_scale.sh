#!/bin/bash
# Memory, CPU per refresh, key latency and quit time of the real dashboard on a large cluster.
#
# Usage: tests/bench/dashboard_scale.sh BINARY SEED [REFRESHES]
#   BINARY     a release build of slotscope (copy it out of target/ so a rebuild cannot swap it)
#   SEED       a node of a running cluster, e.g. the simulated one of
#              `SIM_NODES=1000 cargo bench --bench sim_cluster` (it prints `seed: 127.0.0.1:PORT`)
#   REFRESHES  refreshes to wait for before reading the memory (default 10)
#
# Starts the dashboard with `--interval 1` in a private tmux server (`tmux -L`) at 120x40, waits
# until the header's refresh counter reaches REFRESHES, prints VmHWM / VmRSS from /proc, the CPU
# per refresh over the next refreshes (utime + stime from /proc/PID/stat), then presses `?` 20
# times, 300 ms apart, timing each until the screen shows the help overlay appear or go (the
# figure includes one `tmux capture-pane` poll, about 2-5 ms), and finally presses `q` and times
# until the process is gone.
set -u
BIN=$1
SEED=$2
REFRESHES=${3:-10}
SOCK=slotscope-scale-$$
tmux -L "$SOCK" new-session -d -x 120 -y 40 -s scale "${SCALE_ENV:-} $BIN --interval 1 --color never $SEED"
tmux -L "$SOCK" set-option -t scale remain-on-exit on
sleep 0.5
PID=$(tmux -L "$SOCK" list-panes -t scale -F '#{pane_pid}')
# The pane runs the binary itself, or a shell whose child it is.
if [ "$(readlink "/proc/$PID/exe")" != "$(readlink -f "$BIN")" ]; then
  PID=$(pgrep -P "$PID" | head -1)
fi
screen() { tmux -L "$SOCK" capture-pane -p -t scale; }
generation() { screen | sed -n '2p' | grep -o '#[0-9]*' | tail -1 | tr -d '#'; }
wait_gen() {
  local want=$1 deadline=$((SECONDS + 600)) g
  while [ $SECONDS -lt $deadline ]; do
    g=$(generation)
    if [ -n "$g" ] && [ "$g" -ge "$want" ]; then echo "$g"; return 0; fi
    sleep 0.2
  done
  echo "the dashboard did not reach refresh $want" >&2
  screen >&2
  tmux -L "$SOCK" kill-server
  exit 1
}
cpu_ticks() { sed 's/.*) //' "/proc/$PID/stat" | awk '{ print $12 + $13 }'; }
TCK=$(getconf CLK_TCK)
g0=$(wait_gen "$REFRESHES")
echo "dashboard pid $PID at refresh $g0; load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E 'VmHWM|VmRSS' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '
echo
c0=$(cpu_ticks); t0=$(date +%s.%N)
g1=$(wait_gen $((g0 + 5)))
c1=$(cpu_ticks); t1=$(date +%s.%N)
awk -v c=$((c1 - c0)) -v tck="$TCK" -v n=$((g1 - g0)) -v t0="$t0" -v t1="$t1" \
  'BEGIN { printf "%d refreshes in %.1f s: %.0f ms CPU per refresh\n", n, t1 - t0, 1000 * c / tck / n }'
lat=()
for i in $(seq 1 20); do
  sleep 0.3
  if [ $((i % 2)) -eq 1 ]; then want=1; else want=0; fi
  s=$(date +%s%N)
  tmux -L "$SOCK" send-keys -t scale '?'
  while :; do
    if screen | grep -q 'Everywhere'; then have=1; else have=0; fi
    [ "$have" -eq "$want" ] && break
    if [ $(( ($(date +%s%N) - s) / 1000000 )) -gt 5000 ]; then echo "key $i not answered in 5 s"; break; fi
  done
  lat+=($(( ($(date +%s%N) - s) / 100000 )))
done
printf '%s\n' "${lat[@]}" | sort -n | awk '{ v[NR] = $1 / 10 } END {
  printf "key latency over %d presses: min %.1f ms, median %.1f ms, max %.1f ms\n", NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
grep -E 'VmHWM' "/proc/$PID/status" | tr -s ' \t' ' '
s=$(date +%s%N)
tmux -L "$SOCK" send-keys -t scale 'q'
# The pane is dead once tmux has reaped the process, as a shell would.
while [ "$(tmux -L "$SOCK" display-message -p -t scale '#{pane_dead}' 2>/dev/null)" = 0 ]; do
  sleep 0.005
  if [ $(( ($(date +%s%N) - s) / 1000000 )) -gt 10000 ]; then echo "still running 10 s after q"; break; fi
done
echo "quit $(( ($(date +%s%N) - s) / 1000000 )) ms after q"
tmux -L "$SOCK" kill-server 2>/dev/null
