"""The ``commonfactors`` command: a thin layer over the library.

Every command is a few library calls and some printing. Errors go to standard error, name
every problem, and exit with status 2.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonfactors.errors import CommonFactorsError, ScoringError
from commonfactors.instruments.registry import Instrument, Registry, default_registry
from commonfactors.scoring import Score, score, score_frame

__all__ = ["app", "main"]

app = typer.Typer(
    help="Score validated check-ins by their published rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
instruments_app = typer.Typer(help="The instruments the library knows.", no_args_is_help=True)
app.add_typer(instruments_app, name="instruments")

out = Console()
err = Console(stderr=True)

#: Rows per chunk when scoring a file (the progress bar advances per chunk).
CHUNK_ROWS = 100_000


class ErrorMode(StrEnum):
    """What ``score --file`` does with bad rows."""

    RAISE = "raise"
    REPORT = "report"


class _CommandError(Exception):
    """Raised inside a command to stop with exit status 2 after printing problems."""


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CommonFactorsError as exc:
        err.print(f"[bold red]error:[/] {exc.args[0].splitlines()[0]}", highlight=False)
        for p in exc.problems if len(exc.problems) > 1 or exc.problems[0] != exc.args[0] else ():
            err.print(f"  - {p}", highlight=False, markup=False)
        if isinstance(exc, ScoringError):
            _print_refused_risk(exc)
        raise typer.Exit(2) from None
    except _CommandError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _print_refused_risk(exc: ScoringError) -> None:
    """A risk answer is never silent, not even in answers that were refused."""
    single = set(exc.risk_rows) | set(exc.risk_unanswered_rows) <= {1} and not any(
        p.startswith("row ") for p in exc.problems
    )
    rows = exc.risk_rows or ({1: exc.risk_items} if exc.risk_items else {})
    for row, items in sorted(rows.items()):
        where = "" if single else f"row {row}: "
        err.print(
            f"[bold red]RISK:[/] {where}the answers could not be scored, but a risk item was "
            f"answered: {', '.join(items)}. Review risk with the client now.",
            highlight=False,
        )
    for row, items in sorted(exc.risk_unanswered_rows.items()):
        where = "" if single else f"row {row}: "
        err.print(
            f"[bold yellow]ASK:[/] {where}risk item {', '.join(items)} was left blank or could "
            "not be read; ask the client about it.",
            highlight=False,
        )


def _registry() -> Registry:
    return default_registry()


# ------------------------------------------------------------------------------ instruments


@instruments_app.command("list")
def list_instruments(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every instrument, what it measures and whether its text is available."""
    with _errors():
        rows: list[dict[str, Any]] = [
            {
                "id": i.id,
                "name": i.definition.name,
                "short_name": i.definition.short_name,
                "measures": i.definition.measures,
                "status": i.definition.status,
                "items": len(i.definition.items),
                "text_shipped": i.definition.licence.text_shippable,
                "text_loaded": sorted(i.texts),
                "version": i.definition.version,
            }
            for i in _registry()
        ]
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="Instruments")
    for col in ("id", "instrument", "measures", "items", "status", "text"):
        table.add_column(col)
    for r in rows:
        text = ", ".join(r["text_loaded"]) if r["text_loaded"] else "scoring only"
        status = "practice questions (unvalidated)" if r["status"] == "practice" else "validated"
        table.add_row(
            str(r["id"]), f"{r['short_name']} — {r['name']}", str(r["measures"]),
            str(r["items"]), status, text,
        )  # fmt: skip
    out.print(table)


@instruments_app.command("show")
def show_instrument(instrument_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show an instrument's definition: items, scoring rules, bands, cut-offs, licence."""
    from commonfactors.instruments.docs import render_page

    with _errors():
        inst = _registry().get(instrument_id)
    from rich.markdown import Markdown

    out.print(Markdown(render_page(inst).split("\n", 1)[1]))


@instruments_app.command("export-fhir")
def export_fhir(
    instrument_id: Annotated[str, typer.Argument(metavar="ID")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    language: Annotated[str, typer.Option(help="Text pack language.")] = "en",
) -> None:
    """Write a FHIR R4 Questionnaire for an instrument (validated with fhir.resources)."""
    from commonfactors import fhir

    with _errors():
        inst = _registry().get(instrument_id)
        if inst.texts and language not in inst.texts:
            raise _CommandError(
                f"{inst.id} has no text in {language!r}; loaded: {', '.join(sorted(inst.texts))}"
            )
        resource = fhir.questionnaire(inst, language=language)
    text = json.dumps(resource, indent=2, ensure_ascii=False)
    if out_file is None:
        print(text)
    else:
        out_file.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {out_file}")


@instruments_app.command("docs")
def write_docs(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder of the pages.")] = Path(
        "docs/instruments"
    ),
    check: Annotated[bool, typer.Option(help="Only report missing or stale pages.")] = False,
) -> None:
    """Generate the reference page of every shipped instrument from its definition."""
    from commonfactors.instruments.docs import stale_pages, write_pages

    with _errors():
        registry = Registry.from_directories()  # shipped text only, never a local pack
        if check:
            stale = stale_pages(registry, out_dir)
            if stale:
                raise _CommandError(
                    "instrument pages are out of date (run `make docs`): " + "; ".join(stale)
                )
            err.print(f"{len(registry)} instrument pages are up to date")
            return
        written = write_pages(registry, out_dir)
    err.print(f"wrote {len(written)} pages to {out_dir}")


# ------------------------------------------------------------------------------ scoring


def _parse_answer(token: str) -> str | None:
    """'-' or nothing is a missing answer; anything else goes to the scorer as typed, so
    that one rule decides what is a number and names what is not."""
    return None if token.strip() in ("-", "") else token


def _print_score(s: Score, inst: Instrument, as_json: bool) -> None:
    if as_json:
        print(json.dumps(s.as_dict(), ensure_ascii=False))
        return
    d = inst.definition
    table = Table(title=f"{d.short_name} — {d.name}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_column("rule", style="dim", overflow="fold")
    table.add_row("total", f"{s.total:g}", s.rules.get("total", ""))
    for sub, val in s.subscales.items():
        table.add_row(
            f"subscale {sub}",
            "—" if val is None else f"{val:g}",
            s.rules.get(f"subscale_{sub}", ""),
        )
    table.add_row("band", s.band or "—", s.rules.get("band", "no published bands"))
    casen = "—" if s.caseness is None else ("yes" if s.caseness else "no")
    table.add_row("caseness", casen, s.rules.get("caseness", "no published cut-off"))
    risk = ", ".join(s.risk_items) if s.risk_items else "none"
    table.add_row(
        "risk items",
        f"[bold red]{risk}[/]" if s.risk_items else risk,
        s.rules.get("risk_items", ""),
    )
    if s.risk_unanswered:
        table.add_row(
            "risk unanswered",
            f"[bold yellow]{', '.join(s.risk_unanswered)}[/]",
            s.rules.get("risk_unanswered", ""),
        )
    missing = f"yes ({', '.join(s.missing_items)} missing)" if s.prorated else "no"
    table.add_row("prorated", missing, s.rules.get("prorated", ""))
    table.add_row("definition", d.version, "")
    out.print(table)
    if s.risk_items:
        out.print("[bold red]RISK:[/] a risk item was answered; review risk with the client now.")
    if s.risk_unanswered:
        out.print("[bold yellow]ASK:[/] a risk item was left blank; ask the client about it.")


def _read_table(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise _CommandError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        return pl.read_parquet(path)
    try:
        frame = pl.read_csv(
            path, infer_schema_length=0
        )  # every column as text: checked by the scorer
    except pl.exceptions.PolarsError as exc:
        raise _CommandError(f"{path}: cannot read as CSV: {exc}") from exc
    return frame.with_columns(pl.col(pl.String).replace("-", None))


def _score_file(inst: Instrument, path: Path, out_file: Path | None, report: bool) -> None:
    frame = _read_table(path)
    parts = []
    progress = Progress(
        TextColumn("scoring {task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, disable=frame.height <= CHUNK_ROWS,
    )  # fmt: skip
    with progress:
        task = progress.add_task(path.name, total=frame.height)
        for start in range(0, max(frame.height, 1), CHUNK_ROWS):
            chunk = frame.slice(start, CHUNK_ROWS)
            parts.append(score_frame(inst, chunk, errors="report"))
            progress.advance(task, chunk.height)
    scored = pl.concat(parts) if parts else score_frame(inst, frame, errors="report")
    bad = scored.with_row_index("row", offset=1).filter(pl.col("error").is_not_null())
    if bad.height and not report:
        problems = [f"row {r}: {e}" for r, e in bad.select("row", "error").iter_rows()]
        shown = problems[:200]
        more = [f"... and {len(problems) - 200} more rows"] if len(problems) > 200 else []
        risky = bad.select("row", "risk_items", "risk_unanswered")
        raise ScoringError(
            f"{inst.id}: {bad.height} of {frame.height} rows cannot be scored; nothing was written "
            "(use --errors report to write the good rows with an error column)",
            shown + more,
            risk_rows={r: items for r, items, _ in risky.iter_rows()},
            risk_unanswered_rows={r: items for r, _, items in risky.iter_rows()},
        )
    flat = scored.with_columns(
        pl.col("risk_items", "risk_unanswered").list.join(";"), pl.col("band").cast(pl.String)
    )
    if out_file is None:
        sys.stdout.write(flat.write_csv())
    elif out_file.suffix.lower() == ".parquet":
        scored.write_parquet(out_file)
    else:
        flat.write_csv(out_file)
    ok = scored.filter(pl.col("error").is_null())
    with_risk = (
        ok.filter(pl.col("risk_items").list.len() > 0).height
        + bad.filter(pl.col("risk_items").list.len() > 0).height
    )
    summary = (
        f"{inst.id}: scored {ok.height} of {frame.height} rows"
        + (f", {bad.height} with errors" if bad.height else "")
        + f", {ok.filter(pl.col('prorated')).height} prorated"
        + (f", [bold red]{with_risk} with a risk answer[/]" if with_risk else ", no risk answers")
        + (f"; wrote {out_file}" if out_file else "")
    )
    err.print(summary, highlight=False)


@app.command("score")
def score_command(
    instrument_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Instrument id.")
    ] = None,
    answers: Annotated[
        list[str] | None,
        typer.Argument(metavar="ANSWERS...", help="Answers in item order; '-' for missing."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="CSV or Parquet, a column per item.")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write scored rows here.")] = None,
    errors: Annotated[
        ErrorMode,
        typer.Option(
            help="With --file: 'raise' (any bad row: nothing written) or 'report' (bad rows "
            "get an error column).",
        ),
    ] = ErrorMode.RAISE,
    fhir_file: Annotated[
        Path | None, typer.Option("--fhir", help="Score a FHIR QuestionnaireResponse (JSON).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score answers given on the command line, a file of administrations, or a FHIR response."""
    with _errors():
        if fhir_file is not None:
            if answers or file is not None:
                raise _CommandError("--fhir scores one response: give no answers and no --file")
            _score_fhir(fhir_file, instrument_id, as_json)
            return
        if instrument_id is None:
            raise _CommandError("name an instrument (see `commonfactors instruments list`)")
        inst = _registry().get(instrument_id)
        if file is not None:
            if answers:
                raise _CommandError("give answers on the command line or --file, not both")
            if as_json:
                raise _CommandError("--json is for one score; with --file use --out FILE")
            _score_file(inst, file, out_file, errors is ErrorMode.REPORT)
            return
        if not answers:
            raise _CommandError(
                f"give the {len(inst.definition.items)} answers of {inst.id} in item order"
            )
        result = score(inst, [_parse_answer(a) for a in answers])
    _print_score(result, inst, as_json)


def _score_fhir(path: Path, instrument_id: str | None, as_json: bool) -> None:
    from commonfactors import fhir

    try:
        resource: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise _CommandError(f"{path}: cannot read JSON: {exc}") from exc
    result = fhir.score_response(
        resource, instrument=None if instrument_id is None else _registry().get(instrument_id)
    )
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    for w in result.warnings:
        err.print(f"[bold yellow]warning:[/] {w}", highlight=False)
    _print_score(result.score, _registry().get(result.instrument), as_json)


# ------------------------------------------------------------------------------ analyze

_STAGES = ("checking", "scoring", "change", "signals", "summary")


@app.command("analyze")
def analyze_command(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet, one row per episode and session.")],
    instrument: Annotated[str, typer.Option(help="The outcome instrument.")] = "phq9",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write per-episode results (.parquet or .csv).")
    ] = None,
    episode: Annotated[str, typer.Option(help="Episode id column.")] = "episode_id",
    session: Annotated[str, typer.Option(help="Session number column.")] = "session",
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="An expected-treatment-response model from fit-etr."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Change, outcomes and signals of every episode in a registry, with a summary."""
    from commonfactors.analysis import analyze, read_table
    from commonfactors.trajectories import load_model

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip
    with _errors(), progress:
        task = progress.add_task("reading", total=len(_STAGES) + 1)
        model = None if model_file is None else load_model(model_file)
        frame = read_table(data)

        def on_stage(name: str) -> None:
            progress.update(task, description=name, advance=1)

        result = analyze(
            frame, instrument=_registry().get(instrument), episode=episode, session=session,
            model=model, on_stage=on_stage,
        )  # fmt: skip
        progress.update(task, completed=len(_STAGES) + 1)
        if out_file is not None:
            _write_table(result.episodes, out_file)
    if as_json:
        payload = {"instrument": result.instrument, "episodes": result.episodes.height,
                   "signals_reference": result.reference,
                   "summary": result.summary.to_dicts()}  # fmt: skip
        print(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=f"{result.instrument}: {result.episodes.height:,} episodes")
    for col in ("measure", "count", "n", "rate", "95 % interval", "among"):
        table.add_column(col)
    for r in result.summary.iter_rows(named=True):
        rate = "—" if r["n"] == 0 else f"{r['rate']:.1%}"
        ci = "—" if r["n"] == 0 else f"{r['ci_low']:.1%} – {r['ci_high']:.1%}"
        table.add_row(r["measure"], f"{r['count']:,}", f"{r['n']:,}", rate, ci, r["among"])
    out.print(table)
    if result.reference:
        out.print(f"Signals judged against: {result.reference}", highlight=False)
    if out_file is not None:
        err.print(f"wrote {result.episodes.height:,} episode rows to {out_file}")


def _write_table(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.write_parquet(path)
        return
    flat = frame.with_columns(pl.col(pl.List(pl.String)).list.join(";"))
    flat.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String)).write_csv(path)


@app.command("fit-etr")
def fit_etr_command(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet, one row per episode and session.")],
    out_file: Annotated[Path, typer.Option("--out", help="The model file to write (JSON).")],
    instrument: Annotated[str, typer.Option(help="The outcome instrument.")] = "phq9",
    episode: Annotated[str, typer.Option(help="Episode id column.")] = "episode_id",
    session: Annotated[str, typer.Option(help="Session number column.")] = "session",
    score: Annotated[
        str | None, typer.Option(help="Score column (default <instrument>_total).")
    ] = None,
) -> None:
    """Fit an expected-treatment-response model on a practice's own episodes."""
    from commonfactors.analysis import read_table
    from commonfactors.trajectories import ExpectedTreatmentResponse

    with _errors():
        frame = read_table(data)
        column = score or f"{instrument}_total"
        with err.status(f"fitting the expected treatment response of {instrument}"):
            model = ExpectedTreatmentResponse(instrument).fit(
                frame, episode=episode, session=session, score=column, reference=data.name
            )
        model.save(out_file)
    err.print(f"wrote {out_file}: {model.label}", highlight=False)


@app.command("fit-dropout")
def fit_dropout_command(
    sessions: Annotated[
        Path, typer.Argument(help="CSV or Parquet, one row per appointment (attended or not).")
    ],
    episodes: Annotated[
        Path, typer.Argument(help="CSV or Parquet, one row per episode, with dropout.")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="The model file to write (JSON).")],
    score: Annotated[str, typer.Option(help="Outcome score column.")] = "phq9_total",
    after: Annotated[int, typer.Option(help="Attended sessions the risk is taken at.")] = 2,
    synthetic: Annotated[
        bool,
        typer.Option(
            "--synthetic",
            help="The data are synthetic (implied when synth.json lies beside SESSIONS).",
        ),
    ] = False,
) -> None:
    """Fit the dropout model on a registry's own episodes (e.g. `commonfactors synth`'s
    sessions and episodes tables). Features the data lack (homework, age) are left out. The
    model records its outcome (the score column without `_total`) and `after`."""
    from commonfactors.analysis import read_table
    from commonfactors.trajectories import TrajectoryError
    from commonfactors.trajectories.dropout import (
        DROPOUT_FEATURES,
        DropoutModel,
        dropout_features,
    )

    with _errors():
        s, e = read_table(sessions), read_table(episodes)
        if "dropout" not in e.columns:
            raise TrajectoryError(
                f"{episodes}: no dropout column (true where the episode ended early)"
            )
        frame = dropout_features(s, e, after=after, score=score)
        used = [f for f in DROPOUT_FEATURES if f in frame.columns]
        outcome = score.removesuffix("_total")
        synthetic = synthetic or (sessions.parent / "synth.json").exists()
        with err.status(f"fitting the dropout model on {frame.height:,} episodes"):
            model = DropoutModel(used, outcome=outcome, after=after).fit(
                frame,
                frame["dropout"],
                reference=f"{sessions.name} and {episodes.name}",
                synthetic=synthetic,
            )
        model.save(out_file)
    left = [f for f in DROPOUT_FEATURES if f not in used]
    out.print(
        f"{frame.height:,} episodes with {after}+ attended sessions, "
        f"{model.event_rate_:.1%} dropped out"
        + (f"; not in the data: {', '.join(left)}" if left else ""),
        highlight=False,
    )
    for name, ratio in model.odds_ratios().items():
        out.print(f"  odds ratio per SD, {name}: {ratio:.2f}", highlight=False)
    err.print(f"wrote {out_file}: {model.label}", highlight=False)


# ------------------------------------------------------------------------------ synth


@app.command("synth")
def synth_command(
    episodes: Annotated[int, typer.Option("--episodes", help="Episodes of care to generate.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the Parquet tables.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
) -> None:
    """Generate a synthetic registry (practices, therapists, clients, episodes, sessions)."""
    from commonfactors.synth import generate, write_registry

    with _errors(), err.status(f"generating {episodes:,} synthetic episodes (seed {seed})"):
        registry = generate(episodes, seed=seed)
        written = write_registry(registry, out_dir)
    sessions = registry.sessions.height
    err.print(
        f"wrote {len(written)} files to {out_dir}: {episodes:,} episodes, {sessions:,} sessions "
        "(synthetic data: parameters and seed in synth.json)",
        highlight=False,
    )


# ------------------------------------------------------------------------------ demo


@app.command("demo")
def demo(
    instruments: Annotated[
        bool, typer.Option("--instruments", help="Only score every shipped instrument and exit.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the web app on 127.0.0.1.")] = 8000,
) -> None:
    """The demo practice: migrate a local SQLite database, load a synthetic practice, print
    the logins and a client link, and serve the web app on http://127.0.0.1:PORT with its
    background worker (reminders, alert e-mails) beside it; both stop together."""
    from commonfactors.demo import run_demo

    with _errors():
        run_demo(_registry(), out)
    if instruments:
        return
    from commonfactors_web.__main__ import main as manage  # the web app, only when asked for

    out.print("\n[bold]The web app[/]: migrating the local database and loading the demo practice")
    manage(["migrate", "--no-input", "-v", "0"])
    manage(["seed_demo", "--site-url", f"http://127.0.0.1:{port}"])
    worker = _start_worker()
    # SIGTERM stops the server as Ctrl-C does, so that the worker is stopped with it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        manage(["runserver", f"127.0.0.1:{port}", "--noreload"])
    finally:
        _stop_worker(worker)


def _start_worker() -> subprocess.Popen[bytes]:
    """The web app's task worker as a child process, in a session of its own so that Ctrl-C
    reaches only the server, which then stops the worker once, gracefully
    (``--exit-with-parent``: it also stops if this process is killed)."""
    command = [sys.executable, "-m", "commonfactors_web", "task_worker", "--exit-with-parent"]
    worker = subprocess.Popen(command, start_new_session=True)
    out.print(
        f"[bold]The background worker[/] (reminders, alert e-mails) runs as process {worker.pid}"
    )
    return worker


def _stop_worker(worker: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Let the worker finish its task and stop; kill it if it has not after ``timeout`` s."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    out.print(f"The background worker stopped (exit status {worker.returncode}).")


def main() -> None:
    app()
