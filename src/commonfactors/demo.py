"""What ``make demo`` shows until the web app exists: every shipped instrument, scored."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from commonfactors.errors import ScoringError
from commonfactors.instruments.registry import Instrument, Registry
from commonfactors.scoring import score

__all__ = ["example_answers", "run_demo"]


_ORDER = (
    "outcome", "wellbeing", "functioning", "goals", "alliance", "empathy", "expectancy",
    "motivation", "preferences", "culture", "homework",
)  # fmt: skip


def example_answers(inst: Instrument) -> list[float]:
    """A deterministic, varied answer set (a low-discrepancy walk over the options)."""
    d = inst.definition
    answers = []
    for k, item in enumerate(d.items):
        values = d.allowed_values(item.id)
        answers.append(values[int(((0.618034 * k + 0.35) % 1.0) * len(values))])
    return answers


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{round(x, 2):g}"


def run_demo(registry: Registry, console: Console) -> None:
    table = Table(title="Every shipped instrument, scored from an example answer set")
    for col in ("instrument", "measures", "answers", "total", "band", "case", "risk items", "text"):
        table.add_column(col, overflow="fold")
    for inst in sorted(registry, key=lambda i: (_ORDER.index(i.definition.measures), i.id)):
        d = inst.definition
        answers = example_answers(inst)
        s = score(inst, answers)
        name = d.short_name + (" [dim]unvalidated[/]" if d.status == "practice" else "")
        table.add_row(
            name,
            d.measures,
            " ".join(_fmt(a) for a in answers),
            _fmt(s.total) + (f" [dim]({len(s.subscales)} subscales)[/]" if s.subscales else ""),
            s.band or "—",
            "—" if s.caseness is None else ("yes" if s.caseness else "no"),
            f"[bold red]{', '.join(s.risk_items)}[/]" if s.risk_items else "",
            "shipped" if inst.texts else "scoring only",
        )
    console.print(table)

    console.print("\n[bold]The same rules, explained[/] — PHQ-9 with item 3 left blank:")
    s = score(registry.get("phq9"), [2, 2, None, 1, 1, 2, 1, 1, 0])
    console.print(f"  total {_fmt(s.total)} ({s.band}), prorated: {s.prorated}")
    for field, rule in s.rules.items():
        console.print(f"  [dim]{field}:[/] {rule}", highlight=False)

    console.print("\n[bold]Bad input names every problem at once[/] — PHQ-9 `3 3 3 9 3 3 - - -`:")
    try:
        score(registry.get("phq9"), [3, 3, 3, 9, 3, 3, None, None, None])
    except ScoringError as exc:
        for p in exc.problems:
            console.print(f"  - {p}", highlight=False, markup=False)
    console.print(
        "\nTry: [bold].venv/bin/commonfactors score phq9 3 3 3 3 3 3 3 3 1 --json[/]"
        " · [bold].venv/bin/commonfactors instruments list[/]"
        " · [bold].venv/bin/commonfactors instruments show gad7[/]"
    )
