"""The practice's own model files (settings ``ETR_MODELS`` and ``DROPOUT_MODEL``), fitted by
``fit_etr`` and ``fit_dropout``.

A file is read once per version (its modification time, size and inode) and checked to be
the model it is named as. A file that cannot be used — deleted, half-copied, of another
instrument — never breaks a page or a client's submission: :func:`etr_model` and
:func:`dropout_model` log the problem (no client data) and fall back to the shipped model,
whose SYNTHETIC label every signal and panel then shows. The system check
(``commonfactors.E004``/``E005``) reports the same problems at start, from
:func:`etr_model_problems` and :func:`dropout_model_problems`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings

import commonfactors
from commonfactors.errors import CommonFactorsError
from commonfactors.trajectories import (
    DEFAULT_MODELS,
    DropoutModel,
    ExpectedTreatmentResponse,
    default_model,
    load_model,
)
from commonfactors.trajectories.dropout import OUTCOME_INSTRUMENT, default_dropout_model

log = logging.getLogger(__name__)

#: The attended session the client page takes the dropout risk at.
DROPOUT_AFTER = 2


class OwnModelError(CommonFactorsError):
    """A model file that cannot be used as what it is named."""


def etr_model_files() -> dict[str, str]:
    """``ETR_MODELS`` as instrument → path: space- or comma-separated ``instrument=path``
    pairs (so a path may not contain either). :class:`OwnModelError` names a malformed
    entry."""
    files: dict[str, str] = {}
    for entry in settings.CF_ETR_MODELS.replace(",", " ").split():
        instrument, sep, path = entry.partition("=")
        if not sep or not instrument or not path:
            raise OwnModelError(f"ETR_MODELS entry {entry!r} is not instrument=path")
        if instrument in files:
            raise OwnModelError(f"ETR_MODELS names {instrument!r} twice")
        files[instrument] = path
    return files


def _version(path: str) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise OwnModelError(f"{path!r} cannot be read: {exc.strerror or exc}") from exc
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@lru_cache(maxsize=8)
def _read(path: str, version: tuple[int, int, int], kind: str) -> object:
    try:
        return DropoutModel.load(path) if kind == "dropout" else load_model(Path(path))
    except (OSError, CommonFactorsError, ValueError) as exc:
        raise OwnModelError(f"{path!r} cannot be read: {exc}") from exc


def own_etr_model(instrument: str, path: str) -> ExpectedTreatmentResponse:
    """The file at ``path`` as ``instrument``'s expected-response model, or
    :class:`OwnModelError` saying why it cannot be."""
    model = _read(path, _version(path), "etr")
    if not isinstance(model, ExpectedTreatmentResponse) or model.instrument_ != instrument:
        raise OwnModelError(
            f"{path!r} is not a log-linear expected-response model of {instrument!r}"
        )
    return model


def own_dropout_model(path: str) -> DropoutModel:
    """The file at ``path`` as the client page's dropout model (its outcome PHQ-9, taken at
    the second attended session), or :class:`OwnModelError` saying why it cannot be."""
    model = _read(path, _version(path), "dropout")
    if not isinstance(model, DropoutModel):  # pragma: no cover - _read gives one
        raise OwnModelError(f"{path!r} is not a dropout model")
    if (model.outcome, model.after) != (OUTCOME_INSTRUMENT, DROPOUT_AFTER):
        raise OwnModelError(
            f"{path!r} was fitted on {model.outcome} at attended session {model.after}; the "
            f"client page needs {OUTCOME_INSTRUMENT} at session {DROPOUT_AFTER}"
        )
    return model


def etr_model(instrument: str) -> ExpectedTreatmentResponse | None:
    """``instrument``'s expected-response model: the practice's own file, or the shipped
    SYNTHETIC default (also when the own file cannot be used: logged); None when there is
    neither."""
    try:
        path = etr_model_files().get(instrument)
        if path is not None:
            return own_etr_model(instrument, path)
    except OwnModelError as exc:
        log.error("ETR_MODELS: %s; the shipped model is used instead", exc)
    return default_model(instrument) if instrument in DEFAULT_MODELS else None


def dropout_model() -> DropoutModel:
    """The practice's dropout model file, or the shipped SYNTHETIC one (also when the file
    cannot be used: logged)."""
    path = settings.CF_DROPOUT_MODEL
    if path:
        try:
            return own_dropout_model(path)
        except OwnModelError as exc:
            log.error("DROPOUT_MODEL: %s; the shipped model is used instead", exc)
    return default_dropout_model()


def etr_model_problems() -> list[str]:
    """Every problem with ``ETR_MODELS``, for the system check."""
    try:
        files = etr_model_files()
    except OwnModelError as exc:
        return [str(exc)]
    registry = commonfactors.default_registry()
    out = []
    for instrument, path in files.items():
        if instrument not in registry:
            out.append(f"ETR_MODELS: {instrument!r} is not a known instrument")
            continue
        try:
            own_etr_model(instrument, path)
        except OwnModelError as exc:
            out.append(f"ETR_MODELS: {exc}")
    return out


def dropout_model_problems() -> list[str]:
    """The problem with ``DROPOUT_MODEL``, if any, for the system check."""
    if not settings.CF_DROPOUT_MODEL:
        return []
    try:
        own_dropout_model(settings.CF_DROPOUT_MODEL)
    except OwnModelError as exc:
        return [f"DROPOUT_MODEL: {exc}"]
    return []


# ------------------------------------------------------------------ the fit commands


def out_problems(out: Path) -> list[str]:
    """What is wrong with a fit command's ``--out`` path."""
    problems = []
    if out.suffix.lower() != ".json":
        problems.append(f"--out {out} must end in .json")
    if not out.parent.is_dir():
        problems.append(f"--out {out}: the directory {out.parent} does not exist")
    return problems


def write_model(out: Path, text: str) -> None:
    """Write a model file whole or not at all (beside it first, then moved in), so a page
    reading it never sees half a file."""
    with tempfile.NamedTemporaryFile(
        "w", dir=out.parent, suffix=".json", delete=False, encoding="utf-8"
    ) as f:
        f.write(text)
    Path(f.name).replace(out)
