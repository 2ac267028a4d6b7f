#!/usr/bin/env bash
# Installs the Debian packages gancho needs to build, run and test, if any is
# missing. Sourced by scripts/run and scripts/test; safe to run again.
set -euo pipefail

GANCHO_DEPS=(build-essential cmake pkg-config libcurl4-openssl-dev
  libjansson-dev libsqlite3-dev libssl-dev libpq-dev)
GANCHO_TEST_DEPS=(libcmocka-dev python3 curl openssl cppcheck clang-format wrk postgresql)

gancho_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
