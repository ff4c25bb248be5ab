"""Workflow text -> model.Workflow: grammar, syntax items, expansion, options, evaluation, loading."""
