#!/bin/sh
# Print the path of a Python >= 3.12 interpreter (Mesa 3.5 needs it), or explain and fail.
# Looks, in order, at $PYTHON, python3.13/python3.12 on PATH, python3, then pyenv's installs.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
for c in "${PYTHON:-}" python3.12 python3.13 python3; do
  [ -n "$c" ] || continue
  p=$(command -v "$c" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -t. -k1,1n -k2,2n -k3,3n); do
    p=$(PYENV_VERSION="$v" pyenv which python 2>/dev/null) || continue
    if ok "$p"; then echo "$p"; exit 0; fi
  done
fi
cat >&2 <<'MSG'
error: wpi-abm needs Python 3.12 or newer (Mesa 3.5 requires it), and none was found.
Looked at: $PYTHON, python3.13, python3.12, python3 on PATH, and pyenv's installed versions.
Fix one of:
  - install Python 3.12+ (python.org, your package manager, or `pyenv install 3.12`), or
  - point to one explicitly:  make run PYTHON=/path/to/python3.12
MSG
exit 1
