"""Transforms: plain functions over a SQLAlchemy Connection, set-based SQL where the data lives."""
