#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the integration
# tests run for real (nginx, Caddy, Redis, docker-compose and headless
# Chromium from Debian's packages, the npm jose package for interop), then
# runs go test -race ./....
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in nginx caddy redis-server docker-compose chromium; do
  command -v "$pkg" >/dev/null || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
(cd interop && npm ci --no-audit --no-fund --loglevel=error)
# Fail rather than skip when a tool the suite needs is missing.
export AUTHGATE_REQUIRE_INTEROP=1 AUTHGATE_REQUIRE_FRONT_PROXIES=nginx,caddy AUTHGATE_REQUIRE_COMPOSE=1 AUTHGATE_REQUIRE_REDIS=1 AUTHGATE_REQUIRE_BROWSER=1
go test -race ./... "$@"
# The deployment files' tests live in a module of their own (k8s.io/api).
(cd deploy && go test -race ./... "$@")
