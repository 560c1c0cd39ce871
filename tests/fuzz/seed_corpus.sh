#!/usr/bin/env bash
# Build the seed corpora of every fuzz target from the captured replies in tests/fixtures
# (idempotent). The corpora live in tests/fuzz/corpus/<target>/ (not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../fixtures"
corpus="$here/corpus"
mkdir -p "$corpus"/{cluster_nodes,info,seeds,reply,replies,planner,remap,config,argv,recording,at,capture,slot_migrations,slot_stats}

cp "$fixtures"/*nodes*.txt "$corpus/cluster_nodes/"
cp "$fixtures"/*info*.txt "$corpus/info/"

printf '127.0.0.1:7000\n[::1]:7001\nlocalhost\n' >"$corpus/seeds/plain"
printf 'redis://user:secret@127.0.0.1:7000\nrediss://%%5B::1%%5D:7000\nredis://:p%%40ss@host\n' \
  >"$corpus/seeds/urls"

# RESP replies as the probe and the census see them.
printf '+OK\r\n' >"$corpus/reply/ok"
printf ':42\r\n' >"$corpus/reply/int"
printf -- '-MOVED 3999 127.0.0.1:6381\r\n' >"$corpus/reply/error"
printf '*3\r\n:1\r\n$3\r\nfoo\r\n-ERR x\r\n' >"$corpus/reply/array"
{ printf '$%d\r\n' "$(wc -c <"$fixtures/healthy_nodes_31000.txt")"; cat "$fixtures/healthy_nodes_31000.txt"; printf '\r\n'; } \
  >"$corpus/reply/bulk_nodes"

# One file per captured scenario: every captured view, separated by a `----` line; the
# INFO of the first view, where captured, after a `====` line.
for scenario in $(ls "$fixtures" | sed -n 's/^\(.*\)_nodes_[0-9]*\.txt$/\1/p' | sort -u); do
  out="$corpus/replies/$scenario"
  : >"$out"
  first=1
  for f in "$fixtures/${scenario}"_nodes_*.txt; do
    [ "$first" = 1 ] || printf '\n----\n' >>"$out"
    cat "$f" >>"$out"
    if [ "$first" = 1 ]; then
      info=$(ls "$fixtures/${scenario}"_info_*.txt 2>/dev/null | head -1 || true)
      [ -z "$info" ] || { printf '\n====\n' >>"$out"; cat "$info" >>"$out"; }
    fi
    first=0
  done
done

# Generated clusters: a few fixed byte strings (all zeros decodes to a healthy cluster).
head -c 160 /dev/zero >"$corpus/planner/healthy"
for i in 1 2 3 4 5 6 7 8; do
  python3 -c "import random,sys; random.seed($i); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(160)))" \
    >"$corpus/planner/seed$i"
done
# --remap rules, the config file, command lines (NUL between arguments), --at.
printf '10.0.0.5:6379=127.0.0.1:16379\n10.0.0.6=localhost\n[fd00::5]:6379=127.0.0.1:16379\n' \
  >"$corpus/remap/rules"
cat >"$corpus/config/two" <<'TOML'
[contexts.prod]
seeds = ["10.0.0.5:6379", "10.0.0.6:6379"]
user = "ops"
password_env = "PROD_REDIS_PASSWORD"
tls = true
cacert = "/etc/ssl/prod-ca.pem"
remap = ["10.0.0.5:6379=127.0.0.1:16379"]
read_only = true
label = "PROD"
color = "red"

[contexts.staging]
seeds = ["127.0.0.1:7000"]
interval = 2.5
TOML
printf 'slotscope\0-a\0secret\0127.0.0.1:7000' >"$corpus/argv/dash_a"
printf 'slotscope\0--pass=pw\0redis://u:p%%40w@127.0.0.1:7000\0--\0rediss://:x@h:1' >"$corpus/argv/urls"
printf 'slotscope\0chekc\0127.0.0.1:7000' >"$corpus/argv/typo"
printf '3\n1000 2000 3000 4000\n' >"$corpus/at/index"
printf 'last\n1000 2000\n' >"$corpus/at/last"
printf '2026-12-03T20:00:00Z\n1796327000000 1796328000000\n' >"$corpus/at/time"

# Recordings, compressed as written and uncompressed (the fuzzer mutates the JSON better).
for f in "$fixtures"/recordings/*.jsonl.gz; do
  b=$(basename "$f" .jsonl.gz)
  cp "$f" "$corpus/recording/$b.gz"
  gzip -dc "$f" | head -c 65536 >"$corpus/recording/$b.jsonl"
done

# Valkey 9 slot migrations; one node's replies for capture (see fuzz_targets/capture.rs).
cp "$fixtures"/*slotmig*.txt "$corpus/slot_migrations/"
for f in "$fixtures"/*_nodes_*.txt; do
  b=$(basename "$f" .txt)
  port=${b##*_}
  scenario=${b%_nodes_*}
  ci=$(ls "$fixtures/${scenario}"_cluster_info_*.txt 2>/dev/null | head -1 || true)
  inf=$(ls "$fixtures/${scenario}"_info_*.txt 2>/dev/null | grep -v cluster_info | head -1 || true)
  mig=$(ls "$fixtures/${scenario}"_slotmig_*"$port".txt 2>/dev/null | head -1 || true)
  { cat "$f"; printf '\n----\n'; [ -z "$ci" ] || cat "$ci"; printf '\n----\n'
    [ -z "$inf" ] || cat "$inf"; printf '\n----\nmaxmemory-policy noeviction\nappendonly no\n----\n'
    [ -z "$mig" ] || cat "$mig"; } >"$corpus/capture/$b"
done

# Slot stats as the fuzz target decodes them: a list of [slot, [name, int, ...]].
printf '\x02\x02\x02\x02\x00\x07\x00\x00\x00\x00\x00\x00\x00\x02\x02\x01\x09key-count\x00\x05\x00\x00\x00\x00\x00\x00\x00\x02\x02\x00\x64\x00\x00\x00\x00\x00\x00\x00\x02\x02\x01\x09key-count\x00\x00\x00\x00\x00\x00\x00\x00\x00' \
  >"$corpus/slot_stats/list"
printf '\x03\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x01\x01\x0dcpu-usec\x00\x2a\x00\x00\x00\x00\x00\x00\x00' \
  >"$corpus/slot_stats/map"

echo "corpora in $corpus: $(ls "$corpus" | wc -l) targets, $(find "$corpus" -type f | wc -l) files"
