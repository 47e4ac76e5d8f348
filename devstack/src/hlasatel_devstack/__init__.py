"""Hlasatel on one machine: broker, provider fakes, the run command and test fixtures."""
