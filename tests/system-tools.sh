#!/usr/bin/env bash
# The machine's own tools that the tests drive, made ready by `make test` before pytest runs:
#   poppler-utils  pdfinfo, pdftotext, pdfimages, pdftoppm (the briefing PDF read as a reader gets it)
#   chromium       the dashboard in a real browser (Playwright drives Debian's /usr/bin/chromium)
#   PostgreSQL     127.0.0.1:5432, trust auth, database `test` (the storage tests' second backend)
# As root on Debian it installs what is missing and starts a stopped PostgreSQL cluster, as our
# machines and CI need. Otherwise it stops at once with one line naming the package and the
# command that installs it, so no test is skipped for a missing tool.
set -euo pipefail

declare -A package_of=(
  [pdfinfo]=poppler-utils [pdftotext]=poppler-utils [pdfimages]=poppler-utils [pdftoppm]=poppler-utils
  [chromium]=chromium
)

missing=()
for tool in "${!package_of[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    package=${package_of[$tool]}
    [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
  fi
done

can_install() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }

if [ ${#missing[@]} -gt 0 ]; then
  if ! can_install; then
    echo "make test: missing Debian package(s) ${missing[*]}: install with" \
         "'sudo apt-get install --no-install-recommends ${missing[*]}', then run make test again" >&2
    exit 1
  fi
  echo "make test: installing Debian package(s) the tests drive: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    # A new machine's package lists may be empty or stale: refresh once, then try again.
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
      echo "make test: 'apt-get install ${missing[*]}' failed; install it by hand and run make test again" >&2
      exit 1
    }
  fi
fi

# PostgreSQL: the storage tests run on SQLite and on PostgreSQL.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "make test: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    for _ in $(seq 1 30); do
      pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
      sleep 1
    done
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || {
    echo "make test: PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth, database 'test'):" \
         "install it with 'sudo apt-get install postgresql' and start it, or run" \
         "'.venv/bin/python -m pytest -m \"not postgres\"' for the SQLite leg alone" >&2
    exit 1
  }
fi
