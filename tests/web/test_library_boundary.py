"""The web app is a thin layer: one copy of the library, which never loads Django."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import commonfactors

WEB = Path(__file__).resolve().parents[2] / "src" / "commonfactors_web"
LIBRARY = Path(__file__).resolve().parents[2] / "src" / "commonfactors"


def test_the_library_is_loaded_once_from_src() -> None:
    assert Path(commonfactors.__file__).resolve().parent == LIBRARY
    copies = [m for m in sys.modules if m.endswith("commonfactors") and m != "commonfactors"]
    assert copies == []


def test_importing_the_library_loads_no_django() -> None:
    code = (
        "import sys, commonfactors, commonfactors.change, commonfactors.trajectories\n"
        "web = ('django', 'commonfactors_web')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in web))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_web_app_imports_only_the_librarys_public_modules() -> None:
    """No view reaches into the library's private modules (a rule copied or bent)."""
    for path in WEB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("commonfactors.")
            ):
                assert not any(part.startswith("_") for part in node.module.split(".")), (
                    path,
                    node.module,
                )
