"""The only functions that create or change practices, teams and users."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction

from commonfactors_web.accounts.models import Practice, Role, Team, User

#: What an admin may do in the Django admin: manage people, read the audit log.
ADMIN_PERMISSIONS = (
    ("accounts", "add_user"),
    ("accounts", "change_user"),
    ("accounts", "view_user"),
    ("accounts", "add_team"),
    ("accounts", "change_team"),
    ("accounts", "view_team"),
    ("accounts", "change_practice"),
    ("accounts", "view_practice"),
    ("audit", "view_auditevent"),
)


def create_practice(name: str, *, crisis_text: str = "") -> Practice:
    return Practice.objects.create(name=name, crisis_text=crisis_text)


def create_team(practice: Practice, name: str) -> Team:
    return Team.objects.create(practice=practice, name=name)


@transaction.atomic
def create_user(
    username: str,
    password: str | None,
    *,
    role: str,
    practice: Practice,
    team: Team | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """A person who logs in. Admins get the Django admin for people and the audit log."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    if team is not None and team.practice_id != practice.pk:
        raise ValueError("the team belongs to another practice")
    user = User(
        username=username,
        role=role,
        practice=practice,
        team=team,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=role == Role.ADMIN,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    if role == Role.ADMIN:
        for app_label, codename in ADMIN_PERMISSIONS:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return user


def set_crisis_text(practice: Practice, text: str) -> Practice:
    practice.crisis_text = text.strip()
    practice.save(update_fields=["crisis_text"])
    return practice


def practice_named(raw: str | None, problems: list[str]) -> Practice | None:
    """The practice a command-line option names (its id or exact name; none needed when
    there is only one), or None with the problem added to ``problems``."""
    practices = Practice.objects.order_by("pk")
    if raw is None:
        if practices.count() == 1:
            return practices.get()
        names = ", ".join(f"{p.pk} ({p.name})" for p in practices) or "none exists"
        problems.append(f"name the practice with --practice: {names}")
        return None
    found = practices.filter(pk=int(raw)) if raw.isdigit() else practices.filter(name=raw)
    if found.count() != 1:
        problems.append(f"--practice {raw!r} names no practice (give its id or exact name)")
        return None
    return found.get()
