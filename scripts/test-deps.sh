#!/usr/bin/env bash
# Install the system packages the test suite needs, only those that are missing:
#   redis-server (throwaway Redis), postgresql (initdb/pg_ctl for a throwaway cluster),
#   chromium (browser tests, driven by Playwright).
# As root it runs apt-get; otherwise it uses passwordless sudo if there is one, or prints
# what to install (and fails under CI=true, where the tests would fail anyway).
# Package installs never start services: the tests start their own on free ports.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 \
  || missing+=(postgresql)
if [[ ! -x "${IWLAB_TEST_CHROMIUM:-/usr/bin/chromium}" ]]; then missing+=(chromium fonts-liberation); fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "test-deps: redis-server, postgresql, chromium present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "test-deps: missing system packages: ${missing[*]}" >&2
  echo "test-deps: install them with:  sudo apt-get install -y ${missing[*]}" >&2
  echo "test-deps: (tests that need them are skipped; with CI=true they fail)" >&2
  if [[ "${CI:-}" == "true" ]]; then exit 1; fi
  exit 0
fi

echo "test-deps: installing ${missing[*]}"
# Keep package post-install scripts from starting redis/postgres services (the Docker
# convention): a policy-rc.d that refuses every start. Removed again if we made it.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [[ $made_policy -eq 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "test-deps: installed ${missing[*]}"
