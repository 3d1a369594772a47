"""What every `heart` command shares: where output and errors go, how a failure is said, the output formats."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line to stderr and return the Exit to raise (no traceback for a person's mistake)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
