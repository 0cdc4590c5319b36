#!/bin/sh
# Snapshot browsing benchmark (not a test: numbers depend on the machine).
# Usage: bench/browse.sh [FILES] [HEN_BINARY]
#   FILES       files in the snapshot (default 100000), in directories of 1000
#   HEN_BINARY  the hen-backup executable (default .build/debug/hen-backup; build it first)
# It makes a restic repository with one snapshot of FILES files in a temporary directory, then times
# `hen-backup ls --local` of one directory: the first run indexes the whole snapshot into
# data_dir/snapshots.sqlite (one `restic ls`), later runs answer from the index without restic.
# For comparison it times `restic ls` of the same directory. Each line: wall seconds and peak RSS.
set -eu
files=${1:-100000}
hen=${2:-.build/debug/hen-backup}
[ -x "$hen" ] || { echo "no executable $hen (swift build first)" >&2; exit 1; }
hen=$(cd "$(dirname "$hen")" && pwd)/$(basename "$hen")
work=$(mktemp -d /tmp/hen-browse-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export RESTIC_REPOSITORY="$work/repo" RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$work/restic-cache"
echo bench > "$work/password"
python3 - "$work/src" "$files" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    directory = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0: os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "f%06d" % i), "w") as f: f.write(str(i))
PY
restic init -q
t0=$(date +%s.%N)
restic backup -q --host bench --tag backup=bench "$work/src"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$files" 'BEGIN { printf "restic backup of %d files: %.1f s\n", n, b - a }'
cat > "$work/config.yml" <<YML
hostname: bench
data_dir: $work/data
repositories:
  local:
    location: $work/repo
    password_file: $work/password
backups:
  bench:
    paths: [$work/src]
    repositories: [local]
YML
dir="$work/src/d$(printf %03d $((files / 2000)))"
run() {
  label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %M KB peak RSS" "$@" > "$work/out" 2> "$work/time" || { cat "$work/time" >&2; exit 1; }
  tail -1 "$work/time"
}
run "restic ls of one directory (for comparison)" restic ls --host bench latest "$dir"
run "hen-backup ls, first (indexes $files files)" "$hen" ls --config "$work/config.yml" --local local latest "$dir"
echo "  entries printed: $(wc -l < "$work/out")"
run "hen-backup ls, second (from the index)" "$hen" ls --config "$work/config.yml" --local local latest "$dir"
run "hen-backup ls, third (from the index)" "$hen" ls --config "$work/config.yml" --local local latest "$dir"
echo "index: $(du -ck "$work/data"/snapshots.sqlite* | tail -1 | cut -f1) KB (snapshots.sqlite with its WAL)"
