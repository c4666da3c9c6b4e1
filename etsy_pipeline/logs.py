"""Logging set-up for the command line: one handler, the level from LOG_LEVEL, secrets never formatted in."""

from __future__ import annotations

import logging

from rich.logging import RichHandler


def configure_logging(level: str) -> None:
    handler = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", datefmt="[%X]", handlers=[handler], force=True)
    logging.getLogger("etsy_pipeline").setLevel(level)
