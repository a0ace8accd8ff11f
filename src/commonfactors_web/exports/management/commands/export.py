"""``python -m commonfactors_web export --format csv|parquet|fhir --out DIR``: a practice's
export on a clinic server.

Writes the files of the export into ``DIR`` (created if missing): the tables as
``scores.csv``, ``answers.csv``, ``sessions.csv``, ``episodes.csv`` (or ``.parquet``) and
``manifest.json``, or the FHIR Bundle as ``bundle.json`` (``--per-client``: one
``<client id>.json`` per client) and ``manifest.json``. Files of the same name are
replaced; nothing is written unless the whole export succeeds. The export is pseudonymised
unless ``--identified``; it is audited as made on the command line. Every problem with the
options is named at once (exit status 1).
"""

from __future__ import annotations

import json
import tempfile
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commonfactors_web.accounts.services import practice_named
from commonfactors_web.exports import services


def _date(name: str, raw: str | None, problems: list[str]) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"--{name} {raw!r} is not a date (YYYY-MM-DD)")
        return None


def _write(out: Path, files: dict[str, bytes]) -> None:
    """Every file into a temporary directory beside ``out`` first, then moved in."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_bytes(content)
        for name in files:
            (Path(tmp) / name).replace(out / name)


class Command(BaseCommand):
    help = "Export a practice's scores, sessions and outcomes (CSV, Parquet) or FHIR bundles."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", dest="fmt", required=True, help="csv, parquet or fhir")
        parser.add_argument("--out", required=True, help="the directory to write into")
        parser.add_argument("--practice", help="the practice's id or name (if several)")
        parser.add_argument("--since", help="session dates from this day (YYYY-MM-DD)")
        parser.add_argument("--until", help="session dates up to this day (YYYY-MM-DD)")
        parser.add_argument(
            "--identified",
            action="store_true",
            help="add the practice's client codes (pseudonymised without it)",
        )
        parser.add_argument("--per-client", action="store_true", help="FHIR: one Bundle per client")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        fmt = str(options["fmt"])
        since = _date("since", options["since"], problems)
        until = _date("until", options["until"], problems)
        problems += services.check_options(fmt, since, until)
        if options["per_client"] and fmt != "fhir":
            problems.append("--per-client is for --format fhir only")
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            problems.append(f"--out {str(out)!r} is a file, not a directory")
        practice = practice_named(options["practice"], problems)
        if problems or practice is None:
            raise CommandError("cannot export:\n" + "\n".join(f"  - {p}" for p in problems))
        try:
            export = services.export_practice(
                practice,
                fmt,
                since=since,
                until=until,
                identified=options["identified"],
                per_client=options["per_client"],
            )
        except services.ExportRefusedError as exc:
            raise CommandError(
                "cannot export:\n" + "\n".join(f"  - {p}" for p in exc.problems)
            ) from exc
        files = dict(export.files)
        files.setdefault("manifest.json", json.dumps(export.manifest, indent=1).encode("utf-8"))
        _write(out, files)
        what = ", ".join(f"{n} {k}" for k, n in export.counts.items()) or "no records"
        kind = "identified" if options["identified"] else "pseudonymised"
        self.stdout.write(
            f"wrote {len(files)} files to {out} ({kind}; {export.n_clients} clients: {what})"
        )
