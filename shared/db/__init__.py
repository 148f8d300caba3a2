"""Database access: the declarative base, the models, the engine and migrations."""
