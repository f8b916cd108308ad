#!/usr/bin/env bash
# Load comparison on loopback with wrk: the same request through a bare
# httputil.ReverseProxy and through authgate (token checked, identity headers
# set), in one run, in front of the same upstream; plus authgate's
# forward-auth endpoint. Prints requests/s and the ratios.
#
#   scripts/load.sh            # needs wrk (apt-get install -y wrk)
#   DURATION=20s CONNS=64 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
UP=127.0.0.1:${UPSTREAM_PORT:-18080}
BARE=127.0.0.1:${BARE_PORT:-18081}
AG=127.0.0.1:${AUTHGATE_PORT:-18082}
TUNED=127.0.0.1:${TUNED_PORT:-18083}
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }

bin=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$bin"; }
trap cleanup EXIT
go build -o "$bin/authgate" ./cmd/authgate
go build -o "$bin/loadpeer" ./scripts/loadpeer

export AUTHGATE_JWT_SECRET="load-test-secret-$(head -c 24 /dev/urandom | base64)"
"$bin/loadpeer" upstream "$UP" & pids+=($!)
"$bin/loadpeer" bare "$BARE" "http://$UP" & pids+=($!)
"$bin/loadpeer" tuned "$TUNED" "http://$UP" & pids+=($!)
AUTHGATE_ADDR=$AG AUTHGATE_ADMIN_ADDR= AUTHGATE_UPSTREAM="http://$UP" AUTHGATE_LOG_LEVEL=warn \
  "$bin/authgate" serve & pids+=($!)
TOKEN=$("$bin/authgate" token --sub 1 --claim username=alice --claim 'roles=["admin"]')
for addr in "$UP" "$BARE" "$TUNED" "$AG"; do  # wait for the listeners, at most 10 s each
  for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done
done

rps() { # name url [header]
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" ${3:+-H "$3"} "$2")
  local r; r=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-34s %10s req/s%s\n' "$1" "$r" "${non2xx:+  (non-2xx: $non2xx)}" >&2
  echo "$r"
}
echo "wrk -t$THREADS -c$CONNS -d$DURATION on $(nproc) cores, $(go version | cut -d' ' -f3)" >&2
bare=$(rps "bare httputil.ReverseProxy" "http://$BARE/api/items")
tuned=$(rps "bare, authgate's transport + pool" "http://$TUNED/api/items")
proxy=$(rps "authgate proxy (valid token)" "http://$AG/api/items" "Authorization: Bearer $TOKEN")
denied=$(rps "authgate proxy (no token, 401)" "http://$AG/api/items")
fa=$(rps "authgate forward-auth (valid)" "http://$AG/auth/api/items" "Authorization: Bearer $TOKEN")
awk -v b="$bare" -v t="$tuned" -v p="$proxy" -v d="$denied" -v f="$fa" 'BEGIN {
  printf "authgate proxy / bare proxy throughput: %.2f\n", p / b
  printf "authgate proxy / tuned bare throughput: %.2f  (the cost of checking)\n", p / t
  printf "401 answers / bare proxy throughput:    %.2f\n", d / b
  printf "forward-auth / bare proxy throughput:   %.2f\n", f / b
}'
