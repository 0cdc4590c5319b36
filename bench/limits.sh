#!/bin/sh
# Rough bandwidth-limit benchmark (not a test: numbers depend on the machine and its load).
# Usage: bench/limits.sh [MIB] [LIMIT]
#   MIB    how much random data to back up (default 16)
#   LIMIT  the backup's `limits.upload` (default 2M = 2 MiB/s)
# Backs the same amount of fresh random data up twice into a temporary local restic repository, once
# without a limit and once with LIMIT, through `hen-backup backup` (so the limit goes the way users set
# it), and prints the throughput of each. With a limit the rate should sit at or a little below LIMIT
# (restic's limiter counts the packs it uploads, a little more than the data because of its headers).
set -eu
mib=${1:-16}
limit=${2:-2M}
bin=${HEN_BACKUP:-.build/debug/hen-backup}
[ -x "$bin" ] || { echo "build first: swift build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bench-only-password" > "$work/password"
config() { # $1 = backup name, $2 = extra YAML line
  cat > "$work/config.yml" <<YAML
hostname: bench
data_dir: $work/data
repositories:
  local: { location: $work/repo, password_file: $work/password }
backups:
  $1:
    paths: [$work/src-$1]
    repositories: [local]
$2
YAML
}
run() { # $1 = name, $2 = extra YAML line
  mkdir -p "$work/src-$1"
  head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/src-$1/data.bin"
  config "$1" "$2"
  t0=$(date +%s.%N)
  "$bin" backup "$1" --config "$work/config.yml" --log-format json >/dev/null 2>"$work/$1.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v m="$mib" -v n="$1" 'BEGIN { printf "%-10s %d MiB in %6.2f s = %6.2f MiB/s\n", n, m, b - a, m / (b - a) }'
}
"$bin" backup --help >/dev/null
config init ""; mkdir -p "$work/src-init"; "$bin" backup init --config "$work/config.yml" >/dev/null 2>&1  # repository created outside the timing
run unlimited ""
run limited "    limits: { upload: $limit }"
