"""``python -m daifu_cli``."""

from daifu_cli.cli import app

app(prog_name="daifu")
