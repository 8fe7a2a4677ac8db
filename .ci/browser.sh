#!/usr/bin/env bash
# A headless browser for tests/test_report.py, which renders `inception compare`'s report.html.
# Installs Debian's chromium when no chromium is on PATH; does nothing when one is (idempotent).
set -euo pipefail

for name in chromium chromium-headless-shell chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "browser: $(command -v "$name")"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: no chromium and no apt-get; install chromium by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
echo "browser: $(command -v chromium)"
