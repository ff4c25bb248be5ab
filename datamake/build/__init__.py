"""Building a plan: the builder, executors, staging, signals, the lock and orphaned steps."""
