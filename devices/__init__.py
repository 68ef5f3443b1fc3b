"""Device ingest surface: each module defining ``bp`` is mounted under /device/v1.

Protocol adapters mounted at their own prefix (ZKTeco ADMS under /iclock) are returned by
``extra_blueprints``.
"""

from __future__ import annotations

from sanic import Blueprint


def extra_blueprints() -> list[Blueprint]:
    """Blueprints with their own URL prefix (adapters for commodity terminals)."""
    found: list[Blueprint] = []
    try:
        from devices.adms.views import bp as adms_bp
    except ImportError:
        return found
    found.append(adms_bp)
    return found
