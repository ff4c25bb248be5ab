"""The schedule layer: intervals, dated steps, the runner and one interval's build."""
