"""Where interval builds run: worker threads under --max-active, else the main thread."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor


def pool_of(size: int):
    """Worker threads for --max-active > 1; else the main thread, where the Builder can take Ctrl-C and SIGTERM."""
    return ThreadPoolExecutor(max_workers=size) if size > 1 else InlinePool()


class InlinePool:
    """Runs each submitted call at once in the calling thread; its Future is already done."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: B036 - handed back through the Future like a pool would
            future.set_exception(exc)
        return future

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
