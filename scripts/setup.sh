#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for hieralign: Debian packages (fonts, ...), a virtual
# environment with the pinned CPU torch, and the package itself with its extras.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev}
APT_LISTS=${APT_LISTS:-apt-packages.txt}  # `make bench-setup` adds apt-packages-bench.txt

# shellcheck disable=SC2086  # APT_LISTS is a space-separated list of files
mapfile -t APT < <(cat $APT_LISTS | sed -e 's/#.*//' -e '/^[[:space:]]*$/d' | tr -d ' ')
missing=()
for pkg in "${APT[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else
    echo "hieralign setup: these Debian packages are needed and I cannot install them without root:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "Run that line, then run this command again." >&2
    exit 1
  fi
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
stamp="$VENV/.hieralign-installed-${EXTRAS//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "==> pip install -e .[$EXTRAS] (torch pinned by constraints.txt)"
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[$EXTRAS]"
  touch "$stamp"
fi
echo "==> setup done ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
