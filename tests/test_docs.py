"""Documentation is generated from, or checked against, the code: it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from commonfactors.cli import app
from commonfactors.instruments.docs import stale_pages
from commonfactors.instruments.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def test_every_instrument_has_an_up_to_date_page() -> None:
    problems = stale_pages(Registry.from_directories(), ROOT / "docs" / "instruments")
    assert problems == [], "run `make docs` to regenerate docs/instruments/"


def test_every_instrument_is_in_the_overview_and_licence_findings() -> None:
    overview = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    for inst in Registry.from_directories():
        assert f"instruments/{inst.id}.md" in overview, inst.id


def _commands() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return names


def test_every_cli_command_is_documented() -> None:
    cli_doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    documented = set(
        re.findall(r"^## `commonfactors ([a-z][a-z-]*(?: [a-z][a-z-]*)*)", cli_doc, flags=re.M)
    )
    assert set(_commands()) <= documented, set(_commands()) - documented


def test_the_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
