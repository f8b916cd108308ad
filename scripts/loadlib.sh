# Shared by scripts/load.sh and scripts/abload.sh (sourced, with $me set to
# the script's name): wrk must be there; on two or more cores the servers
# share core 0 (GOMAXPROCS=1) and wrk has core 1; $dir is a temporary
# directory, and every PID in pids is stopped and $dir removed on exit.
command -v wrk >/dev/null || { echo "$me: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }

pin_server=() pin_client=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 0) pin_client=(taskset -c 1)
  export GOMAXPROCS=1
fi

dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

# gobuild OUT PKG: built as the Dockerfile builds authgate: static,
# stripped, the binary that ships.
gobuild() { CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$1" "$2"; }

# wait_for ADDR: until something answers HTTP there (10 s at most).
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "http://$1/" && return; sleep 0.1; done; echo "$me: $1 did not start" >&2; exit 1; }
