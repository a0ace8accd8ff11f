from __future__ import annotations

import pytest

import commonfactors


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the shipped registry, never a local text pack from the environment."""
    monkeypatch.delenv("COMMONFACTORS_TEXT_PACKS", raising=False)
    commonfactors.default_registry.cache_clear()
