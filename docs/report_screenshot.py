"""Make docs/report.png: the report of examples/daily after a catch-up, drawn by headless Chromium.

    python docs/report_screenshot.py        # needs Debian's chromium (apt-get install chromium)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T08:00:00Z"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "daily"
        shutil.copytree(ROOT / "examples" / "daily", work, ignore=shutil.ignore_patterns(".datamake", "raw", "clean",
                                                                                      "report", "users.csv"))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        datamake = [sys.executable, "-m", "datamake", "-q"]
        subprocess.run([*datamake, "--to", "2026-11-20", "--now", NOW], cwd=work, env=env, check=True)
        subprocess.run([*datamake, "--now", NOW], cwd=work, env=env, check=True)
        subprocess.run([*datamake, "--report", "html", "-o", "report.html", "--now", NOW], cwd=work, env=env, check=True)
        shot = ROOT / "docs" / "report.png"
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={Path(tmp) / 'profile'}", "--window-size=1000,330", "--virtual-time-budget=3000",
                        f"--screenshot={shot}", (work / "report.html").as_uri() + "#w=0&v=grid&z=20"],
                       check=True, capture_output=True)
        print(f"{shot} ({shot.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
