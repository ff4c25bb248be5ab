"""Read-only renderings: reporters, the printed workflow, status tables and graphs."""
