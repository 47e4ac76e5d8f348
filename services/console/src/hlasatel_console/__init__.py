"""Hlasatel's console: the city's press office, approvers and admins at work, over the composer's and the
registry's APIs (it keeps nothing of its own)."""
