"""``python -m codex_engine``: the same as the ``codex-engine`` command."""

from codex_engine.cli.main import main

main()
