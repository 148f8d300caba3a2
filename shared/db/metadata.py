"""Every ORM model registered on one ``MetaData``: what Alembic and the tests compare with."""

from __future__ import annotations

from shared.auth import models as _auth_models  # noqa: F401 - registers the tables
from shared.db.base import Base
from shared.projects import models as _projects_models  # noqa: F401 - registers the tables

__all__ = ["metadata"]

metadata = Base.metadata
