"""``python -m commonfactors_web <command>``: Django's management commands (``manage.py``)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonfactors_web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["python -m commonfactors_web", *(argv or sys.argv[1:])])


if __name__ == "__main__":
    main()
