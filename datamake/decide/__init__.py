"""Rebuild decisions: stamps and fingerprints, the staleness rules, the plan, read-only previews."""
