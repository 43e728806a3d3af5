#!/usr/bin/env bash
# Create the virtual environment; install Debian's venv module first if the
# interpreter lacks it (a fresh Debian python3 does).
set -euo pipefail
python="${1:-python3}"; venv="${2:-.venv}"
[ -x "$venv/bin/python" ] && exit 0
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip
fi
"$python" -m venv "$venv"
