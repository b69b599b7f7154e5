"""What every part of the `socialdesk` command shares: the console and one-line errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console

# Piped into a file (as benchmark figures usually are), Rich would squeeze tables into
# 80 columns and cut their headings; a log has room for 120.
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120)
DEFAULT_DEMO_DATA = Path(
    os.environ.get("SOCIALDESK_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def fail(message: str) -> typer.Exit:
    """One `error:` line and exit code 2 (README: exit codes)."""
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code=2)
