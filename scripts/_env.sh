# Shared by scripts/start and scripts/test: make .venv and install Keel into it, once per
# change of pyproject.toml (a stamp file remembers what was installed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

keel_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
      if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
        echo "$candidate"; return 0
      fi
    fi
  done
  echo "Keel needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

keel_install() {  # $1: the extras to install, e.g. "" or "[test]"
  local extras="${1:-}"
  if [ ! -x .venv/bin/python ]; then
    "$(keel_python)" -m venv .venv
  fi
  local stamp=".venv/.keel-installed${extras}"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Keel and its dependencies into .venv ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
    echo "$want" > "$stamp"
  fi
  mkdir -p var
}
