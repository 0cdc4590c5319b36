#!/bin/sh
# Rough watcher benchmark against a running daemon (not a test: numbers depend on the machine).
# Usage: bench/watch.sh WATCHED_DIR [DIRS] [FILES]
#   WATCHED_DIR  a path of a backup with `watch:` in the daemon's configuration (it is filled, then emptied)
#   DIRS         directories to create (default 5000), FILES files to write in a burst (default 20000)
# It prints: the directories' creation time, the burst's time, and the daemon's CPU seconds spent on them.
# Then check `hen-backup status` (watches used, pending trigger) and `hen-backup jobs` (exactly one job with
# trigger watch after the latency).
set -eu
dir=${1:?usage: bench/watch.sh WATCHED_DIR [DIRS] [FILES]}
dirs=${2:-5000}
files=${3:-20000}
pid=$(pgrep -o -f 'hen-backup daemon' || true)
[ -n "$pid" ] || { echo "no running 'hen-backup daemon'" >&2; exit 1; }
cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$pid/stat" 2>/dev/null || echo 0; }

work="$dir/hen-watch-bench.$$"
trap 'rm -rf "$work"' EXIT
cpu0=$(cpu)
t0=$(date +%s.%N)
i=0
while [ "$i" -lt "$dirs" ]; do mkdir -p "$work/d$((i / 100))/e$i"; i=$((i + 1)); done
t1=$(date +%s.%N)
i=0
groups=$(( (dirs + 99) / 100 ))  # the d<N> directories made above
while [ "$i" -lt "$files" ]; do echo "$i" > "$work/d$((i % groups))/f$i"; i=$((i + 1)); done
t2=$(date +%s.%N)
sleep 2
cpu1=$(cpu)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v p="$cpu0" -v q="$cpu1" -v d="$dirs" -v f="$files" 'BEGIN {
  printf "directories: %d in %.2f s\nfiles:       %d in %.2f s\ndaemon CPU:  %.2f s\n", d, b - a, f, c - b, q - p }'
