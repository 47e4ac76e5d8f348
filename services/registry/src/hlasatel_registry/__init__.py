"""Hlasatel registry."""
