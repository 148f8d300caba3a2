"""The REST API: ``create_app`` in :mod:`api.main`; routes in :mod:`api.projects`."""
