"""Alembic migrations for the OLTP store, shipped inside the package so an installed wheel can upgrade."""
