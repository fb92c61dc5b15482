"""``python -m monitor`` is the ``tension`` command."""

from monitor.cli import app

app(prog_name="tension")
