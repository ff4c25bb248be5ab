"""`datamake --report html`: one self-contained page (data and script inline) of several workflows' history."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources
from typing import Sequence

from datamake.build.records import stamped
from datamake.views import history


def report_data(sources: Sequence[history.Source], now: datetime | None = None, live: bool = False,
                all_tails: bool | None = None) -> dict:
    """The page's data (schema/report.json): every workflow's history, and when it was read."""
    clock = now or datetime.now(timezone.utc)
    return stamped({"generated": clock.isoformat(timespec="seconds"), "live": live,
                    "workflows": [history.read(source, clock, all_tails) for source in sources]})


def render_page(data: dict | None, title: str, live: bool = False) -> str:
    """The page: with `data` inline (a report file), or empty and fetching `api/report` (the live view)."""
    template = resources.files("datamake").joinpath("templates/report.html").read_text(encoding="utf-8")
    # `</` inside a <script> would end it early; \u003c keeps the JSON valid and the page intact.
    inline = "null" if data is None else json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;")
    return (template.replace("__DATAMAKE_TITLE__", safe_title).replace("__DATAMAKE_LIVE__", "yes" if live else "no")
            .replace("__DATAMAKE_DATA__", inline))
