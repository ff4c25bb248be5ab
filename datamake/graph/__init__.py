"""The step graph: steps linked by their files, cycles and duplicate outputs; target selection."""
