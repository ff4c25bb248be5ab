"""Executors run jobs the Builder hands them; they never decide what to run."""
