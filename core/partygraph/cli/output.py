"""Printing results: JSON for machines, tables for people, plain text when piped."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

__all__ = ["console", "emit_json", "error_console"]


def console() -> Console:
    """Standard output: colour and tables on a terminal, plain text when piped."""
    return Console(highlight=False, soft_wrap=True)


def error_console() -> Console:
    """Standard error, for progress bars and messages."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    """Print *data* as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    sys.stdout.flush()
