from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "commonfactors_web.clients"
    label = "clients"
    verbose_name = "Clients, episodes and sessions"
