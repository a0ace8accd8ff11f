"""The homework library: every form definition in ``data/*.yaml`` beside this module.

Adding a form adds a file (named after its id), never a branch in the code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from commonfactors.errors import DefinitionError
from commonfactors.homework.schema import FormDefinition

__all__ = ["DATA_DIR", "UnknownFormError", "all_forms", "get_form", "read_form"]

DATA_DIR = Path(__file__).parent / "data"


class UnknownFormError(DefinitionError, LookupError):
    """No homework form with this id is in the library."""


def read_form(path: str | Path) -> FormDefinition:
    """Read one form definition file, naming every schema problem at once."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"cannot read homework form {path}: {exc}") from exc
    try:
        form = FormDefinition.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(
            f"homework form {path} is invalid",
            [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors()],
        ) from exc
    if path.stem != form.id:
        raise DefinitionError(f"homework form {path} must be named {form.id}.yaml")
    return form


@cache
def _library(directory: Path) -> tuple[FormDefinition, ...]:
    forms = [read_form(p) for p in sorted(directory.glob("*.yaml"))]
    return tuple(sorted(forms, key=lambda f: (f.order, f.id)))


def all_forms(directory: str | Path | None = None) -> tuple[FormDefinition, ...]:
    """Every form of the library, in the library's order."""
    return _library(Path(directory) if directory is not None else DATA_DIR)


def get_form(form_id: str, directory: str | Path | None = None) -> FormDefinition:
    """The form ``form_id``; :class:`UnknownFormError` if the library has none."""
    for form in all_forms(directory):
        if form.id == form_id:
            return form
    known = ", ".join(f.id for f in all_forms(directory))
    raise UnknownFormError(f"no homework form {form_id!r} (known: {known})")
