#!/usr/bin/env bash
# authgate's speed against its baselines, in one run, with wrk on loopback:
# the upstream answered directly (the limit) and a bare
# httputil.ReverseProxy with authgate's own transport, each without a token
# and with the same requests authgate gets (an RS256 or ES256 token in the
# Authorization header, which the bare proxy forwards as authgate does),
# and the bare proxy made to add the headers authgate adds (three identity
# headers, X-Request-Id both ways: what the upstream is told costs both);
# authgate in proxy mode and its forward-auth endpoint, each with one
# repeated token, with 1,000 rotating tokens (which the token cache holds
# after their first round), and with 1,000 rotating tokens and the cache
# off (every request a full verification), RS256 and ES256. On a machine
# with two or more cores the servers share core 0 (GOMAXPROCS=1) and wrk has
# core 1. Prints a table of requests/s (the median of RUNS rounds of
# DURATION, default 7 of 2s, each of which runs every row once: short runs
# interleaved, so that a slow spell of a shared machine falls on all rows
# alike), the ratios to the direct upstream and to the bare proxy given the
# same requests (the no-token rows: to themselves; each the median of the
# rounds' ratios, a row to its baseline in the same round), the
# CPU time the measured server spent per request (from /proc, over all runs:
# steadier than req/s on a shared machine), and the c=1 latency (the
# medians of the rounds' p50 and p99, also measured in each round), then
# proxy mode's ratio to the bare proxy with the same headers, and
# authgate's peak RSS with a full token cache under 64 connections.
# About 9 minutes; it fails if any run got an answer other than 2xx (a
# broken setup).
#
#   scripts/load.sh                     # needs wrk (apt-get install -y wrk)
#   DURATION=10s CONNS=64 RUNS=5 scripts/load.sh
#   ONLY='direct-RS256|bare-RS256|fa-RS256.*' scripts/load.sh   # only the rows whose key matches
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-2s}
CONNS=${CONNS:-32}
RUNS=${RUNS:-7}
UP=127.0.0.1:${UPSTREAM_PORT:-18080}
BARE=127.0.0.1:${BARE_PORT:-18081}
AG=127.0.0.1:${AUTHGATE_PORT:-18082}
NOCACHE=127.0.0.1:${NOCACHE_PORT:-18083}
BAREH=127.0.0.1:${BAREH_PORT:-18084}
ADMIN=127.0.0.1:${ADMIN_PORT:-18092}
me=load.sh
source scripts/loadlib.sh
gobuild "$dir/authgate" ./cmd/authgate
gobuild "$dir/loadpeer" ./scripts/loadpeer
"$dir/loadpeer" keys "$dir"
"$dir/loadpeer" mint "$dir/es256.pem" 10000 >"$dir/es256-10k.tokens"
head -n 1000 "$dir/es256-10k.tokens" >"$dir/es256.tokens"
"$dir/loadpeer" mint "$dir/rs256.pem" 1000 >"$dir/rs256.tokens"

start_authgate() { # addr admin-addr [VAR=value...]
  # Signs ES256; the RSA key is a rotation key, so RS256 tokens verify too.
  # Info-level access lines go to /dev/null: their cost is measured.
  local addr=$1 admin=$2; shift 2
  env AUTHGATE_ADDR="$addr" AUTHGATE_ADMIN_ADDR="$admin" AUTHGATE_UPSTREAM="http://$UP" \
    AUTHGATE_JWT_PRIVATE_KEY_FILE="$dir/es256.pem" AUTHGATE_JWT_VERIFY_KEYS_FILE="$dir/rs256.pub" "$@" \
    "${pin_server[@]}" "$dir/authgate" serve 2>/dev/null & pids+=($!)
  authgate_pid=$!
  wait_for "$addr"
}
"${pin_server[@]}" "$dir/loadpeer" upstream "$UP" 2>/dev/null & pids+=($!)
up_pid=$!
"${pin_server[@]}" "$dir/loadpeer" bare "$BARE" "http://$UP" 2>/dev/null & pids+=($!)
bare_pid=$!
"${pin_server[@]}" "$dir/loadpeer" bare-headers "$BAREH" "http://$UP" 2>/dev/null & pids+=($!)
bareh_pid=$!
wait_for "$UP"; wait_for "$BARE"; wait_for "$BAREH"
start_authgate "$NOCACHE" "" AUTHGATE_TOKEN_CACHE_SIZE=0
nocache_pid=$authgate_pid
start_authgate "$AG" "$ADMIN"
ag_pid=$authgate_pid

# ticks PID: the CPU time (user + system, in clock ticks) a process has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tok_es=$(head -n 1 "$dir/es256.tokens") tok_rs=$(head -n 1 "$dir/rs256.tokens")
declare -A PID URL MODE ALG R C L
keys=()
add() { # key pid url mode(repeated|rotating|none) alg: a row to measure
  [[ $1 =~ ^(${ONLY:-.*})$ ]] || return 0
  keys+=("$1")
  PID[$1]=$2 URL[$1]=$3 MODE[$1]=$4 ALG[$1]=$5
}
# wrk_for KEY [wrk options...]: wrk on the key's URL, with its token(s).
wrk_for() {
  local key=$1; shift
  local args=() tail=()
  case ${MODE[$key]} in
    repeated) args=(-H "Authorization: Bearer $( [ "${ALG[$key]}" = RS256 ] && echo "$tok_rs" || echo "$tok_es")") ;;
    rotating) args=(-s scripts/rotate.lua) tail=(-- "$dir/$(tr 'A-Z' 'a-z' <<<"${ALG[$key]}").tokens") ;;
  esac
  "${pin_client[@]}" wrk -t1 "$@" "${args[@]}" "${URL[$key]}" "${tail[@]}"
}
# once KEY: one run, appended to $dir/runs as "key req/s requests ticks" (the
# ticks of the key's server during the run). A run with non-2xx answers is
# reported on stderr.
once() {
  local t0 out
  t0=$(ticks "${PID[$1]}")
  out=$(wrk_for "$1" -c"$CONNS" -d"$DURATION")
  grep -q Non-2xx <<<"$out" && { echo "load.sh: $1: non-2xx answers" >&2; : >"$dir/non2xx"; }
  awk -v k="$1" -v dt="$(( $(ticks "${PID[$1]}") - t0 ))" '/requests in/ {n = $1} /^Requests\/sec/ {r = $2} END {print k, r, n, dt}' <<<"$out" >>"$dir/runs"
  # The latency at one connection, in the same round (not for rotating
  # tokens), as "key p50 p99" in µs.
  [ "${MODE[$1]}" != rotating ] || return 0
  wrk_for "$1" -c1 -d"$DURATION" --latency | awk -v k="$1" '
    function us(v) { return v ~ /us$/ ? v + 0 : v ~ /ms$/ ? v * 1000 : v * 1e6 }
    /^ +50%/ {p50 = us($2)} /^ +99%/ {p99 = us($2)} END {print k, p50, p99}' >>"$dir/latency"
}

add direct "$up_pid" "http://$UP/api/items" none -
add bare "$bare_pid" "http://$BARE/api/items" none -
for alg in RS256 ES256; do
  # The same requests as authgate's rows, token and all, to the baselines:
  # the bare proxy forwards the Authorization header as authgate does.
  add "direct-$alg" "$up_pid" "http://$UP/api/items" repeated "$alg"
  add "bare-$alg" "$bare_pid" "http://$BARE/api/items" repeated "$alg"
  add "bareh-$alg" "$bareh_pid" "http://$BAREH/api/items" repeated "$alg"
  for mode in repeated rotating; do
    add "proxy-$alg-$mode" "$ag_pid" "http://$AG/api/items" "$mode" "$alg"
    add "fa-$alg-$mode" "$ag_pid" "http://$AG/auth/api/items" "$mode" "$alg"
  done
  add "proxy-$alg-miss" "$nocache_pid" "http://$NOCACHE/api/items" rotating "$alg"
  add "fa-$alg-miss" "$nocache_pid" "http://$NOCACHE/auth/api/items" rotating "$alg"
done
echo "wrk -t1 -c$CONNS -d$DURATION, $RUNS rounds; $(nproc) cores$( [ ${#pin_server[@]} -gt 0 ] && echo ', servers on core 0 (GOMAXPROCS=1), wrk on core 1'); $(go version | cut -d' ' -f3)" >&2
# Rounds: every row once per round, so that a slow spell of the machine
# falls on all rows alike instead of on the few measured during it.
: >"$dir/runs"; : >"$dir/latency"
for _ in $(seq "$RUNS"); do
  for key in "${keys[@]}"; do once "$key"; done
done
hz=$(getconf CLK_TCK)
median() { # key column: the median of a key's latencies in that column
  awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$dir/latency" | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.0f", v[int((NR + 1) / 2)]}'
}
for key in "${keys[@]}"; do
  read -r "R[$key]" "C[$key]" < <(awk -v k="$key" '$1 == k' "$dir/runs" | sort -k2,2n |
    awk -v hz="$hz" '{r[NR] = $2; n += $3; dt += $4} END {printf "%s %.1f\n", r[int((NR + 1) / 2)], dt * 1e6 / hz / n}')
  # The medians of the rounds' p50 and p99.
  L[$key]=-
  p50=$(median "$key" 2) p99=$(median "$key" 3)
  [ -z "$p50" ] || L[$key]="${p50}us/${p99}us"
done

# ratio KEY REF: the median over the rounds of KEY's req/s over REF's in the
# same round (paired: the two ran seconds apart, so a slow spell of the
# machine between rounds cancels out), "-" when REF was not measured.
ratio() {
  awk -v k="$1" -v b="$2" '$1 == k {x[++n] = $2} $1 == b {y[++m] = $2}
    END {for (i = 1; i <= n && i <= m; i++) if (y[i] > 0) print x[i] / y[i]}' "$dir/runs" | sort -g |
    awk '{v[NR] = $1} END {if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else print "-"}'
}
row() { # label key [direct-key bare-key]: the ratios are to those rows
  [ -n "${R[$2]:-}" ] || return 0
  awk -v l="$1" -v r="${R[$2]}" -v d="$(ratio "$2" "${3:-direct}")" -v b="$(ratio "$2" "${4:-bare}")" -v cpu="${C[$2]}" -v lat="${L[$2]}" \
    'BEGIN { printf "| %-44s | %9.0f | %5s | %5s | %6.1f | %s |\n", l, r, d, b, cpu, lat }'
}
echo
echo "| target | req/s | × direct | × bare proxy | server CPU µs/req | c=1 p50/p99 |"
echo "|---|---:|---:|---:|---:|---|"
row "upstream, directly (the limit), no token" direct
row "bare httputil.ReverseProxy, authgate's transport, no token" bare
for alg in RS256 ES256; do
  row "upstream, directly, $alg token header" "direct-$alg" "direct-$alg" "bare-$alg"
  row "bare httputil.ReverseProxy, $alg token header" "bare-$alg" "direct-$alg" "bare-$alg"
  row "bare httputil.ReverseProxy adding authgate's headers, $alg" "bareh-$alg" "direct-$alg" "bare-$alg"
  row "authgate proxy mode, $alg, one repeated token" "proxy-$alg-repeated" "direct-$alg" "bare-$alg"
  row "authgate proxy mode, $alg, 1,000 rotating tokens" "proxy-$alg-rotating" "direct-$alg" "bare-$alg"
  row "authgate proxy mode, $alg, every request a miss" "proxy-$alg-miss" "direct-$alg" "bare-$alg"
done
for alg in RS256 ES256; do
  row "authgate forward-auth, $alg, one repeated token" "fa-$alg-repeated" "direct-$alg" "bare-$alg"
  row "authgate forward-auth, $alg, 1,000 rotating tokens" "fa-$alg-rotating" "direct-$alg" "bare-$alg"
  row "authgate forward-auth, $alg, every request a miss" "fa-$alg-miss" "direct-$alg" "bare-$alg"
done
echo
echo "authgate proxy mode, one repeated token, against the bare proxy adding the same headers: RS256 $(ratio proxy-RS256-repeated bareh-RS256)×, ES256 $(ratio proxy-ES256-repeated bareh-ES256)×"

# Peak RSS: a fresh authgate, its cache filled with 10,000 tokens under 64
# connections.
kill "$authgate_pid"; wait "$authgate_pid" 2>/dev/null || true
start_authgate "$AG" "$ADMIN"
"${pin_client[@]}" wrk -t1 -c64 -d5s -s scripts/rotate.lua "http://$AG/auth/api/items" -- "$dir/es256-10k.tokens" >/dev/null
"${pin_client[@]}" wrk -t1 -c64 -d5s -s scripts/rotate.lua "http://$AG/auth/api/items" -- "$dir/es256-10k.tokens" >/dev/null
size=$(curl -s "http://$ADMIN/metrics" | awk '/^authgate_token_cache_size / {print $2}')
rss=$(awk '/^VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$authgate_pid/status")
echo
echo "authgate peak RSS (VmHWM) after 64 connections with 10,000 rotating tokens: $rss, $size tokens cached"
if [ -e "$dir/non2xx" ]; then echo "load.sh: some runs got answers other than 2xx" >&2; exit 1; fi
