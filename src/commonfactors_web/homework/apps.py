from __future__ import annotations

from django.apps import AppConfig


class HomeworkConfig(AppConfig):
    name = "commonfactors_web.homework"
    label = "homework"
    verbose_name = "Homework and the client's journal"
