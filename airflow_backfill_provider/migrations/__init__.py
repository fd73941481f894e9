"""Alembic migrations of the provider's own tables (see ``service/db_manager.py``)."""
