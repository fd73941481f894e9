"""Hostile callers: bad requests of every kind get one 4xx error shape and create nothing."""
