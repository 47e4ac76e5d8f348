"""Hlasatel dispatch-push."""
