"""The composer's use cases: each takes its input and its dependencies by name."""
