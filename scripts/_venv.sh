# Sourced by scripts/test and scripts/demo: make .venv with the package and its dev extras,
# reinstalling only when pyproject.toml changed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml scripts/_venv.sh | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    # The official Python SDK, for the app-server compatibility tests. --no-deps: it would
    # otherwise pull in the reference CLI's binary, which codex-engine replaces.
    .venv/bin/python -m pip install --quiet --no-deps 'openai-codex>=0.163.0'
    rm -f .venv/.installed-*
    touch "$stamp"
fi
