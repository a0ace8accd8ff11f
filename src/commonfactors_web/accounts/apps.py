from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "commonfactors_web.accounts"
    label = "accounts"
    verbose_name = "People and practices"
