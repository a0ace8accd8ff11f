"""The REST API (``/api/v1/``): per-user tokens, and the clients, episodes, check-ins,
scores, signals and alerts a person may see, through the same access rules and service
functions as the web pages (``docs/api.md``)."""
