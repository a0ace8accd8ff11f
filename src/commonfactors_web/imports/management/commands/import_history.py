"""``python -m commonfactors_web import_history FILE... --therapist USERNAME [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commonfactors_web.accounts.models import Role, User
from commonfactors_web.imports import services


class Command(BaseCommand):
    help = (
        "Import a practice's history (CSV tables, a zip of them, or FHIR JSON) into a "
        "therapist's caseload, all or nothing; --dry-run only reports."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--therapist", required=True, help="the therapist's username")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        therapist = User.objects.filter(
            username=options["therapist"], role=Role.THERAPIST, practice__isnull=False
        ).first()
        if therapist is None:
            problems.append(f"no therapist of a practice named {options['therapist']!r}")
        files: dict[str, bytes] = {}
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                problems.append(f"{name}: no such file")
            else:
                files[path.name] = path.read_bytes()
        if problems or therapist is None:
            raise CommandError("; ".join(problems))
        try:
            if options["dry_run"]:
                report = services.dry_run(files, therapist, services.COMMAND_LINE)
            else:
                report = services.run_import(files, therapist, services.COMMAND_LINE)
        except services.ImportRefusedError as exc:
            report = services.Report(problems=list(exc.problems))
        for kind in services.KINDS:
            self.stdout.write(
                f"{kind}: {report.new[kind]} new, {report.present[kind]} already present"
            )
        if report.problems:
            for p in report.problems:
                self.stderr.write(p)
            raise CommandError(f"{len(report.problems)} problem(s): nothing was imported")
        self.stdout.write("dry-run: nothing written" if options["dry_run"] else "imported")
