#!/usr/bin/env bash
# Two builds of authgate side by side, for a change too small for
# scripts/load.sh to see through a shared machine's noise: A and B (git
# revisions, or paths to built binaries) and a bare httputil.ReverseProxy
# with authgate's transport, all in front of the same upstream, measured in
# ROUNDS paired rounds of one second each (the bare proxy, then A and B in
# turns, seconds apart), proxy mode with one repeated ES256 token. Prints the
# median of the rounds' ratios of A and B to the bare proxy, and each
# server's user and system CPU time a request (from /proc, over all
# rounds). FILL=1 fills both caches with 10,000 tokens first (a busy
# authgate's state). Servers share core 0 (GOMAXPROCS=1), wrk has core 1,
# as in scripts/load.sh. About ROUNDS x 3 seconds.
#
#   scripts/abload.sh HEAD~1 HEAD
#   ROUNDS=31 FILL=1 scripts/abload.sh main /tmp/authgate-experiment
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-15}
[ $# -eq 2 ] || { echo "usage: scripts/abload.sh A B (git revisions or binaries)" >&2; exit 2; }
UP=127.0.0.1:18480 BARE=127.0.0.1:18481 PORT_A=18482 PORT_B=18483
me=abload.sh
source scripts/loadlib.sh

# build NAME REV-OR-PATH: A's or B's binary.
build() {
  if [ -x "$2" ] && [ -f "$2" ]; then cp "$2" "$dir/$1"; return; fi
  git worktree add -q --detach "$dir/src-$1" "$2"
  (cd "$dir/src-$1" && gobuild "$dir/$1" ./cmd/authgate)
  git worktree remove --force "$dir/src-$1"
}
build A "$1"
build B "$2"
gobuild "$dir/loadpeer" ./scripts/loadpeer
"$dir/loadpeer" keys "$dir"
"$dir/loadpeer" mint "$dir/es256.pem" 10000 >"$dir/es256-10k.tokens"
tok=$(head -n 1 "$dir/es256-10k.tokens")

"${pin_server[@]}" "$dir/loadpeer" upstream "$UP" 2>/dev/null & pids+=($!)
"${pin_server[@]}" "$dir/loadpeer" bare "$BARE" "http://$UP" 2>/dev/null & pids+=($!)
bare_pid=$!
declare -A PID
for ab in A B; do
  port=PORT_$ab
  env AUTHGATE_ADDR="127.0.0.1:${!port}" AUTHGATE_ADMIN_ADDR= AUTHGATE_UPSTREAM="http://$UP" \
    AUTHGATE_JWT_PRIVATE_KEY_FILE="$dir/es256.pem" "${pin_server[@]}" "$dir/$ab" serve 2>/dev/null & pids+=($!)
  PID[$ab]=$!
done
wait_for "$UP"; wait_for "$BARE"; wait_for "127.0.0.1:$PORT_A"; wait_for "127.0.0.1:$PORT_B"
if [ "${FILL:-0}" = 1 ]; then
  for port in "$PORT_A" "$PORT_B"; do
    "${pin_client[@]}" wrk -t1 -c64 -d4s -s scripts/rotate.lua "http://127.0.0.1:$port/api/items" -- "$dir/es256-10k.tokens" >/dev/null
  done
fi

# run URL PID: one second of wrk, as "requests utime stime" (ticks).
run() {
  local u0 s0 u1 s1 n
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$2/stat")
  n=$("${pin_client[@]}" wrk -t1 -c32 -d1s -H "Authorization: Bearer $tok" "$1" | awk '/requests in/ {print $1}')
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$2/stat")
  echo "$n $((u1 - u0)) $((s1 - s0))"
}
for _ in 1 2; do # warm up
  run "http://$BARE/api/items" "$bare_pid" >/dev/null
  run "http://127.0.0.1:$PORT_A/api/items" "${PID[A]}" >/dev/null
  run "http://127.0.0.1:$PORT_B/api/items" "${PID[B]}" >/dev/null
done
# Odd rounds run A before B, even rounds B before A: neither gets the
# place after the bare proxy every time.
for i in $(seq "$ROUNDS"); do
  b=$(run "http://$BARE/api/items" "$bare_pid")
  if [ $((i % 2)) = 1 ]; then
    ra=$(run "http://127.0.0.1:$PORT_A/api/items" "${PID[A]}") rb=$(run "http://127.0.0.1:$PORT_B/api/items" "${PID[B]}")
  else
    rb=$(run "http://127.0.0.1:$PORT_B/api/items" "${PID[B]}") ra=$(run "http://127.0.0.1:$PORT_A/api/items" "${PID[A]}")
  fi
  echo "$b $ra $rb"
done >"$dir/rounds"
tick_us=$((1000000 / $(getconf CLK_TCK)))
awk -v t="$tick_us" -v a="$1" -v b="$2" -v fill="${FILL:-0}" '
  function median(x, n,   i, j, v) {
    for (i = 2; i <= n; i++) { v = x[i]; for (j = i - 1; j >= 1 && x[j] > v; j--) x[j + 1] = x[j]; x[j + 1] = v }
    return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
  }
  { ra[NR] = $4 / $1; rb[NR] = $7 / $1
    n0 += $1; u0 += $2; s0 += $3; na += $4; ua += $5; sa += $6; nb += $7; ub += $8; sb += $9 }
  END {
    printf "proxy mode, one repeated ES256 token%s, %d paired rounds of 1 s\n", fill == 1 ? ", caches filled with 10,000 tokens" : "", NR
    printf "bare proxy          user %5.1f + system %5.1f us a request\n", u0 * t / n0, s0 * t / n0
    printf "A %-16s  user %5.1f + system %5.1f us a request, %.3fx the bare proxy\n", a, ua * t / na, sa * t / na, median(ra, NR)
    printf "B %-16s  user %5.1f + system %5.1f us a request, %.3fx the bare proxy\n", b, ub * t / nb, sb * t / nb, median(rb, NR)
  }' "$dir/rounds"
