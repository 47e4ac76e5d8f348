"""What every Hlasatel service does the same way; no domain logic lives here."""
