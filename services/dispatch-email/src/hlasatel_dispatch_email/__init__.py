"""Hlasatel dispatch-email."""
