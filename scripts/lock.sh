#!/usr/bin/env bash
# Write the lock: requirements/*.txt, exact versions with sha256 hashes, one
# file per install set. Every install (make, Docker, CI) reads these files.
#
#   scripts/lock.sh                      keep every pin that still satisfies pyproject
#   scripts/lock.sh --upgrade            move every package to its newest release
#   scripts/lock.sh --upgrade-package X  move X alone (a dependency bump is its own commit)
#
# dev.txt (every extra and the test tools) is resolved first; each queue's set
# is then resolved with dev.txt as constraints, so the same package has the same
# version in every image. torch comes from the CPU build (this machine's
# /opt/wheels, or PyTorch's CPU index in Docker), never PyPI's CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-.venv/bin/uv}"
[ -x "$UV" ] || UV="$(command -v uv)" || { echo "uv not found: make lock installs it from requirements/tools.txt" >&2; exit 2; }
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes
        --find-links /opt/wheels
        --no-header --quiet)
header() { printf '# Locked by scripts/lock.sh (%s) from pyproject.toml: do not edit by hand.\n' "$1"; }
compile() {  # name, extras..., [uv flags after --]
  local name="$1"; shift
  local args=() extras=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extras+=(--extra "$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  local tmp; tmp="$(mktemp)"
  [ -f "requirements/$name.txt" ] && cp "requirements/$name.txt" "$tmp"
  "$UV" pip compile pyproject.toml "${extras[@]}" "${common[@]}" "$@" -o "$tmp"
  { header "$name"; grep -v '^#\s*Locked by' "$tmp"; } > "requirements/$name.txt"; rm -f "$tmp"
}
compile dev vision ops embed llm test -- "$@"
compile vision vision -- -c requirements/dev.txt
compile embed embed -- -c requirements/dev.txt
compile llm llm -- -c requirements/dev.txt
compile ops ops -- -c requirements/dev.txt
# What builds the project and runs the lock itself (requirements/tools.in).
compile_in() {  # name
  local tmp; tmp="$(mktemp)"
  [ -f "requirements/$1.txt" ] && cp "requirements/$1.txt" "$tmp"
  "$UV" pip compile "requirements/$1.in" "${common[@]}" -o "$tmp"
  { header "$1"; grep -v '^#\s*Locked by' "$tmp"; } > "requirements/$1.txt"; rm -f "$tmp"
}
compile_in tools
echo "lock written: requirements/{dev,vision,embed,llm,ops,tools}.txt" >&2
