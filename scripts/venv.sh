# Sourced by scripts/test and scripts/demo: choose the Python they install into and run, as $PYTHON.
#
#   - an active virtual environment (VIRTUAL_ENV is set): its python;
#   - BULKASSIST_NO_VENV=1: the first python3 (or python) on PATH, as it is;
#   - otherwise .venv at the top of the checkout, created on first use from the first python3 on PATH
#     with --system-site-packages: what that Python already has is reused, whatever is missing is
#     installed into .venv, never into the system's Python.

if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    PYTHON="$VIRTUAL_ENV/bin/python"
elif [ "${BULKASSIST_NO_VENV:-0}" = 1 ]; then
    PYTHON="$(command -v python3 || command -v python)"
else
    if [ ! -x .venv/bin/python ]; then
        base="$(command -v python3 || command -v python)"
        echo "creating .venv with $base (set BULKASSIST_NO_VENV=1 to use $base directly)"
        if ! "$base" -m venv --system-site-packages .venv 2>/dev/null; then
            rm -rf .venv
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                echo "installing Debian python3-venv (this Python cannot make a virtual environment without it)"
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                "$base" -m venv --system-site-packages .venv
            else
                echo "error: $base cannot create a virtual environment; install python3-venv, activate a venv" \
                     "of your own, or run with BULKASSIST_NO_VENV=1" >&2
                exit 2
            fi
        fi
    fi
    PYTHON="$PWD/.venv/bin/python"
fi
export PATH="$(dirname "$PYTHON"):$PATH"   # the console scripts installed with it (bulkassist, voila) come first
echo "using $PYTHON ($("$PYTHON" --version 2>&1))"
