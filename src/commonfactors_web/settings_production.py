"""Production settings: everything ``manage.py check --deploy`` asks for.

Needs SECRET_KEY and ALLOWED_HOSTS in the environment (and DATABASE_URL for PostgreSQL).
Assumes HTTPS, terminated here or by a proxy that sets ``X-Forwarded-Proto`` (set
``SECURE_PROXY_SSL_HEADER_ENABLED=1`` then).
"""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("CACHE_BACKEND", "file")  # throttling shared by every worker process

from commonfactors_web.env import env_bool, env_int
from commonfactors_web.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
if env_bool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
