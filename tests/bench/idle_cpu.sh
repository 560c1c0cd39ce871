#!/bin/bash
# Idle CPU, resident memory and bytes written to the terminal by the real dashboard.
#
# Usage: tests/bench/idle_cpu.sh BINARY SEED [WINDOWS] [extra slotscope args...]
#   BINARY   a release build of slotscope (copy it out of target/ so a rebuild cannot swap it)
#   SEED     a node of a running cluster, e.g. from `slotscope demo --scenario healthy --no-dashboard`
#   WINDOWS  number of measurement windows (default 3); WINDOW_S sets their length (default 60 s)
#
# Starts the dashboard in a private tmux server (`tmux -L`) at 120x40, waits 5 s, pipes the
# pane's output to a file (every byte the dashboard writes to its terminal), then for each window
# reads utime + stime from /proc/PID/stat at its start and end and reports the percentage of
# one core. At the end it prints VmRSS / VmHWM and stops the tmux server it started (the
# dashboard gets SIGHUP and exits).
set -u
BIN=$1
SEED=$2
WINDOWS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
WINDOW_S=${WINDOW_S:-60}
SOCK=slotscope-idle-$$
OUT=$(mktemp -d /tmp/slotscope-idle.XXXXXX)
tmux -L "$SOCK" new-session -d -x 120 -y 40 -s idle "$BIN $* $SEED"
sleep 1
PID=$(tmux -L "$SOCK" list-panes -t idle -F '#{pane_pid}')
if [ "$(cat "/proc/$PID/comm" 2>/dev/null)" != "slotscope" ]; then
  PID=$(pgrep -P "$PID" -x slotscope)
fi
echo "dashboard pid $PID, $(ls "/proc/$PID/task" | wc -l) threads, output in $OUT"
sleep 5
TCK=$(getconf CLK_TCK)
: > "$OUT/pane.bytes"
tmux -L "$SOCK" pipe-pane -o -t idle "cat >> $OUT/pane.bytes"
for _ in $(seq 1 "$WINDOWS"); do
  # After "pid (comm) " the state is field 1, so utime (field 14) is index 11, stime index 12.
  read -r -a st0 < <(sed 's/.*) //' "/proc/$PID/stat")
  t0=$(date +%s.%N)
  b0=$(stat -c %s "$OUT/pane.bytes")
  sleep "$WINDOW_S"
  read -r -a st1 < <(sed 's/.*) //' "/proc/$PID/stat")
  t1=$(date +%s.%N)
  b1=$(stat -c %s "$OUT/pane.bytes")
  awk -v du=$(( st1[11] - st0[11] )) -v ds=$(( st1[12] - st0[12] )) -v t0="$t0" -v t1="$t1" \
      -v tck="$TCK" -v b=$(( b1 - b0 )) -v la="$(cut -d' ' -f1-3 /proc/loadavg)" \
    'BEGIN { wall = t1 - t0; cpu = (du + ds) / tck;
             printf "window %.1f s: utime %d + stime %d ticks = %.2f s CPU = %.2f%% of one core; %d bytes to the terminal (%.0f B/s); load %s\n",
                    wall, du, ds, cpu, 100 * cpu / wall, b, b / wall, la }'
done
grep -E 'VmRSS|VmHWM' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '
echo
# Frames: every draw is wrapped in a synchronized update (CSI ? 2026 h ... l).
frames=$(grep -ao $'\e\\[?2026h' "$OUT/pane.bytes" | wc -l)
echo "frames drawn while piped: $frames, $(stat -c %s "$OUT/pane.bytes") bytes in all"
tmux -L "$SOCK" capture-pane -p -t idle > "$OUT/screen.txt"
tmux -L "$SOCK" kill-server
