"""Hlasatel dispatch-sms."""
