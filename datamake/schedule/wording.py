"""How the schedule says things: durations and why a recorded interval is due (again)."""
from __future__ import annotations


def duration_text(seconds: float) -> str:
    """6h, 90m, 45s: the largest unit that divides it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def record_reason(rec) -> str | None:
    """Why an interval's record makes it due again, in the words --status and the preview use."""
    if rec is None:
        return "never built"
    if rec.state in ("running", "interrupted"):
        return "interrupted"
    if rec.state == "waiting":
        return "waiting for " + ", ".join(rec.waiting_for)
    if rec.state == "failed" and rec.waiting_for:
        return "input never arrived: " + ", ".join(rec.waiting_for)
    if rec.state in ("failed", "retry"):
        return "last attempt failed"
    if rec.state == "partial":
        return "only some steps were built"
    if rec.state == "cleared":
        return "cleared for a rebuild"
    return None


def reopened(rec, rerun: str) -> bool:
    """A recorded interval that was interrupted, awaits a retry or an input, lost its targets, or (--rerun
    failed) failed; one whose input never arrived is looked at again: it builds if the input turned up."""
    if rec.state in ("interrupted", "retry", "waiting", "cleared"):
        return True
    if rec.state == "failed":
        return rerun == "failed" or bool(rec.waiting_for)
    return rec.state in ("success", "adopted", "partial") and rerun == "missing"


def rerun_reason(rec, rerun: str) -> str | None:
    """The reason --rerun all|failed gives (None: not rerun); only for those modes."""
    if rerun == "all":
        return "--rerun all"
    return "last attempt failed" if rec and rec.state in ("failed", "retry", "interrupted") else None
