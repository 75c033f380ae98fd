from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command


@dataclass
class CommandRun:
    out: str
    err: str
    error: str | None  # the CommandError's message when the command failed

    @property
    def ok(self) -> bool:
        return self.error is None


def run_command(name: str, *args: Any, **options: Any) -> CommandRun:
    """Run ``onthaal <name>`` as the CLI does; a CommandError becomes ``error``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return CommandRun(out.getvalue(), err.getvalue(), str(exc))
    return CommandRun(out.getvalue(), err.getvalue(), None)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_file("name.csv", text)``: a UTF-8 file in a temporary folder."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
