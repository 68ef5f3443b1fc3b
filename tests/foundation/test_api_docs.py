"""docs/api.md is generated from the OpenAPI document and the error registry, and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_api_docs_are_current():
    """A route, summary or error code changed without regenerating docs/api.md fails here
    (in a subprocess: building a second app in this process would disturb the session's)."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.routes", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
