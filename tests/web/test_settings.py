"""Settings from the environment, the start-up checks and the production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from commonfactors_web import settings as web_settings
from commonfactors_web.env import env_bool, env_int, env_list, env_path

SRC = Path(__file__).resolve().parents[2] / "src"


class TestEnvHelpers:
    def test_it_reads_booleans(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for raw, value in (("1", True), ("yes", True), ("Off", False), ("", False)):
            monkeypatch.setenv("CF_TEST", raw)
            assert env_bool("CF_TEST") is value
        monkeypatch.delenv("CF_TEST")
        assert env_bool("CF_TEST", True) is True

    def test_it_names_the_variable_it_cannot_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CF_TEST", "maybe")
        with pytest.raises(ImproperlyConfigured, match="CF_TEST"):
            env_bool("CF_TEST")
        monkeypatch.setenv("CF_TEST", "ten")
        with pytest.raises(ImproperlyConfigured, match="CF_TEST must be a whole number"):
            env_int("CF_TEST", 1)
        monkeypatch.setenv("CF_TEST", "0")
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            env_int("CF_TEST", 1, minimum=1)

    def test_it_reads_lists_and_paths(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("CF_TEST", " a.example , ,b.example")
        assert env_list("CF_TEST") == ["a.example", "b.example"]
        monkeypatch.setenv("CF_TEST", str(tmp_path))
        assert env_path("CF_TEST", Path("/nowhere")) == tmp_path


class TestDatabase:
    def test_the_default_is_a_sqlite_file_under_var_in_wal_mode(self) -> None:
        config = web_settings._database("")
        assert config["ENGINE"] == "django.db.backends.sqlite3"
        assert Path(config["NAME"]).parent == web_settings.VAR_DIR
        assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
        assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

    def test_a_sqlite_file_really_is_in_wal_mode(self, tmp_path: Path) -> None:
        code = (
            "import django; django.setup()\n"
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        )
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="commonfactors_web.settings",
            COMMONFACTORS_VAR_DIR=str(tmp_path),
        )
        env.pop("DATABASE_URL", None)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "wal"

    def test_database_url_chooses_postgresql(self) -> None:
        config = web_settings._database("postgres://cf:secret@db.example:5432/clinic")
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert (config["NAME"], config["HOST"], config["PORT"]) == ("clinic", "db.example", 5432)
        assert config["CONN_HEALTH_CHECKS"] is True

    @pytest.mark.django_db
    def test_the_tests_run_on_the_configured_database(self) -> None:
        assert connection.vendor in ("sqlite", "postgresql")


class TestChecks:
    def test_the_project_passes_its_checks(self) -> None:
        assert [m for m in run_checks() if m.is_serious()] == []

    def test_an_unknown_primary_outcome_is_an_error(self, settings: object) -> None:
        settings.CF_PRIMARY_OUTCOME = "nope"  # type: ignore[attr-defined]
        ids = [m.id for m in run_checks()]
        assert "commonfactors.E001" in ids

    def test_argon2_comes_first(self) -> None:
        assert web_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "commonfactors_web", *args], env=full, capture_output=True, text=True
    )


class TestProduction:
    PROD: ClassVar[dict[str, str]] = {
        "DJANGO_SETTINGS_MODULE": "commonfactors_web.settings_production",
        "SECRET_KEY": "x7#kQ2!pL9@vR4$mN8^bT1&cW6*zY3(hJ5)dF0_gS-aE+uI=oP",
        "ALLOWED_HOSTS": "clinic.example",
        "SITE_URL": "https://clinic.example",
        "EMAIL_HOST": "smtp.example",
    }

    def test_check_deploy_is_clean(self, tmp_path: Path) -> None:
        result = _run(
            ["check", "--deploy", "--fail-level", "WARNING"],
            COMMONFACTORS_VAR_DIR=str(tmp_path),
            **self.PROD,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_it_refuses_to_start_without_a_secret_key(self, tmp_path: Path) -> None:
        env = dict(self.PROD, SECRET_KEY="", COMMONFACTORS_VAR_DIR=str(tmp_path))
        result = _run(["check"], **env)
        assert result.returncode != 0
        assert "SECRET_KEY must be set" in result.stderr

    def test_it_sets_secure_cookies_hsts_and_csp(self, tmp_path: Path) -> None:
        code = (
            "import django; django.setup()\n"
            "from django.conf import settings as s\n"
            "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,\n"
            "      s.SECURE_HSTS_SECONDS > 0,\n"
            "      'csp.middleware.CSPMiddleware' in s.MIDDLEWARE, s.SESSION_COOKIE_AGE)\n"
        )
        env = dict(os.environ, COMMONFACTORS_VAR_DIR=str(tmp_path), **self.PROD)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["False", "True", "True", "True", "True", "1800"]
