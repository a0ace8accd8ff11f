"""The public surface is the package's __all__, and nothing drifts silently."""

from __future__ import annotations

import subprocess
import sys
import types

import commonfactors

PUBLIC = {
    "ChangeError",
    "CommonFactorsError",
    "Definition",
    "DefinitionError",
    "Instrument",
    "Registry",
    "Score",
    "ScoringError",
    "UnknownInstrumentError",
    "__version__",
    "default_registry",
    "get_instrument",
    "score",
    "score_frame",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(commonfactors.__all__) == PUBLIC


def test_every_name_in_all_exists() -> None:
    for name in commonfactors.__all__:
        assert hasattr(commonfactors, name), name


def test_no_other_public_names_leak() -> None:
    public = {
        name
        for name, value in vars(commonfactors).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == PUBLIC - {"__version__"}


def test_importing_the_library_loads_no_web_framework() -> None:
    code = (
        "import sys, commonfactors, commonfactors.goals, commonfactors.fhir, commonfactors.cli\n"
        "import commonfactors.change\n"
        "commonfactors.score('phq9', [1]*9)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'commonfactors_web', 'flask', 'fastapi', 'starlette', 'ninja'})\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
