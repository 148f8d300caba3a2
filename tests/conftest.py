"""Fixtures live in plugin modules, one per concern."""

pytest_plugins = [
    "tests.key_fixtures",
    "tests.github_fixtures",
    "tests.db_fixtures",
    "tests.worker_fixtures",
    "tests.api_fixtures",
]
