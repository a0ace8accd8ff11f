"""The audit log is append-only in the database too, not only in the app.

* Both databases: a trigger refuses every UPDATE of an audit event.
* PostgreSQL (a clinic's server): a trigger also refuses every DELETE, unless the
  transaction has set ``commonfactors.audit_purge`` to ``on`` — the one deliberate way to
  erase a client's records when the law requires it (``SET LOCAL``, by a database owner).
  Django's test flush uses TRUNCATE, which row triggers do not see.
* SQLite (a laptop): deletes are refused by the app (``AuditQuerySet``/``AuditEvent``); a
  trigger cannot tell an erasure from tampering there, and the file's owner could drop it
  anyway.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "audit_auditevent"

SQLITE_UP = [
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: never updated'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_no_update"]

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE'
         AND coalesce(current_setting('commonfactors.audit_purge', true), '') = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit events are append-only: never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_append_only()",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, None)  # no parameters: the SQL holds a literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
