"""Hlasatel's public pages: what a citizen does without the city's portal."""
