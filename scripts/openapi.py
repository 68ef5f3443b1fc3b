"""Print the platform's OpenAPI document (the one `/docs/openapi.json` serves), without a server.

``.venv/bin/python -m scripts.openapi > web/openapi.json`` — the web console generates its API
types (`web/src/api/schema.d.ts`) from that file; `make web-check` fails when they are stale.
``--regions`` prints the region tree of the console's region picker (`web/src/api/regions.json`).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def document() -> dict[str, Any]:
    """Build the app (no database, no Redis) and run sanic-ext's spec builder on its routes."""
    from sanic_ext.extensions.openapi.builders import SpecificationBuilder

    from config.settings import Settings
    from realname.app import create_app

    app = create_app(Settings(env="test", dev_standins=False), name="openapi_dump", manage_db=False)
    app.finalize()
    from realname import openapi_contract

    openapi_contract.document_websockets(app)  # before build_spec reads the operations
    for future in app.blueprints["openapi"]._future_listeners:
        if future.listener.__name__ == "build_spec":
            cast(Any, future.listener)(app)
    openapi_contract.install()
    spec: dict[str, Any] = copy.deepcopy(SpecificationBuilder().build(app).serialize())
    # A handler serving two methods (PATCH and PUT) shares one operation object, whose id names
    # whichever method sanic-ext visited last (set order): name each by its own method instead.
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if isinstance(operation, dict) and "~" in operation.get("operationId", ""):
                item[method] = operation = copy.deepcopy(operation)
                operation["operationId"] = f"{method}~{operation['operationId'].split('~', 1)[1]}"
    return spec


def regions() -> list[dict[str, Any]]:
    """Qinghai's divisions (services/regions.py) as the console's region picker needs them."""
    from services.regions import CITIES, PROVINCE

    return [
        {
            "value": PROVINCE[0],
            "label": PROVINCE[1],
            "children": [
                {
                    "value": code,
                    "label": name,
                    "children": [{"value": c, "label": n} for c, n in counties],
                }
                for code, (name, counties) in CITIES.items()
            ],
        }
    ]


def main() -> None:
    """Write the document (``--regions``: the region tree), keys sorted for stable diffs."""
    data: Any = regions() if "--regions" in sys.argv[1:] else document()
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
