"""Hlasatel composer."""
