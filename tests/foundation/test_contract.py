"""The API contract: declarations on every route, one error registry, a complete OpenAPI document.

``UNCONVERTED`` lists the modules whose routes are not declared yet; the test checks it is exactly
the set of modules still lacking declarations, so it can only shrink and cannot lie.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sanic import Sanic

from realname import error_codes
from realname.contract import Body, PageQuery, Query, declaration
from realname.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    TooLarge,
    ValidationError,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("admin_api", "miniapp_api", "devices", "services", "realname", "integrations")
SURFACES = ("admin/v1/", "miniapp/v1/", "device/v1/")

# Modules whose routes are not declared yet: none left; a new undeclared route fails the test.
UNCONVERTED: set[str] = set()

CLASS_STATUS = {
    cls.__name__: cls.status
    for cls in (
        AppError,
        ValidationError,
        NotAuthenticated,
        Forbidden,
        NotFound,
        Conflict,
        RateLimited,
        TooLarge,
    )
}


def raise_sites() -> list[tuple[str, int, str, str, int | None]]:
    """(file, line, code, exception class, status) of every ``code="..."`` literal in a call."""
    sites = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = {  # module-level NAME = "code" (code=NAME counts as the literal)
                t.id: n.value.value
                for n in tree.body
                if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.value.value, str)
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                code = kw.get("code")
                if isinstance(code, ast.Name) and code.id in constants:
                    code = ast.Constant(constants[code.id])
                registered = registry_constant(code)
                if registered is not None:  # code=E.TEAM_NOT_FOUND.code
                    code = ast.Constant(registered)
                if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "?")
                status_node = kw.get("status")
                status = (
                    status_node.value
                    if isinstance(status_node, ast.Constant)
                    else CLASS_STATUS.get(name)
                )
                rel = str(path.relative_to(ROOT))
                sites.append((rel, node.lineno, code.value, name, status))
    return sites


def registry_constant(node: ast.expr | None) -> str | None:
    """The code of ``E.NAME.code`` (a registry constant), else None; an unknown NAME fails."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "code"
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "E"
    ):
        return getattr(error_codes, node.value.attr).code
    return None


def test_every_code_literal_is_registered_with_its_status():
    sites = raise_sites()
    assert len(sites) > 300  # the scan really finds the raise sites
    unregistered = [s for s in sites if s[2] not in error_codes.REGISTRY]
    assert not unregistered, f"register these codes in realname/error_codes.py: {unregistered}"
    wrong = []
    for rel, line, code, _cls, status in sites:
        entry = error_codes.REGISTRY[code]
        if status is not None and status not in (entry.status, *entry.also):
            wrong.append(f"{rel}:{line} {code} raised with {status}, registered {entry.status}")
    assert not wrong, wrong


def test_raise_sites_name_the_registry_constant():
    """``code=E.TEAM_NOT_FOUND.code``, never a literal or a module's own copy of the code: each
    code is defined once, in realname/error_codes.py."""
    copies = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "error_codes.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = {
                t.id
                for n in tree.body
                if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Constant)
                and n.value.value in error_codes.REGISTRY
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
                literal = isinstance(code, ast.Constant) and isinstance(code.value, str)
                if literal or (isinstance(code, ast.Name) and code.id in constants):
                    copies.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not copies, f"use code=E.<NAME>.code at {copies}"


def test_registry_entries_are_complete():
    for code, entry in error_codes.REGISTRY.items():
        assert entry.code == code and 400 <= entry.status <= 599
        assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.message), code  # Chinese
    # an AppError with a registered code and no message carries the registry's message
    assert NotFound(code="team_not_found").message == error_codes.TEAM_NOT_FOUND.message


def test_registry_listed_in_api_docs():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [c for c in error_codes.REGISTRY if f"`{c}`" not in text]
    assert not missing, f"run scripts/routes.py: docs/api.md lacks {missing}"


def surface_routes(app: Sanic) -> list[Any]:
    """Routes of the three surfaces (automatic HEAD routes call the GET handler: left out)."""
    return [
        r
        for r in app.router.routes
        if r.path.startswith(SURFACES) and r.methods - {"HEAD", "OPTIONS"}
    ]


def handler_of(route: Any) -> Any:
    """The function a route runs (a websocket route wraps it in a partial)."""
    handler = route.handler
    while isinstance(handler, functools.partial):
        handler = next((a for a in handler.args if callable(a)), handler.func)
    return handler


def test_unconverted_list_is_exact(app):
    lacking: set[str] = set()
    declared: set[str] = set()
    for route in surface_routes(app):
        handler = handler_of(route)
        (declared if declaration(handler) else lacking).add(handler.__module__)
    assert lacking == UNCONVERTED, (
        f"declare these: {sorted(lacking - UNCONVERTED)}; "
        f"done, remove from UNCONVERTED: {sorted(UNCONVERTED - lacking)}"
    )
    assert {"admin_api.teams", "admin_api.members"} <= declared - lacking


@pytest.fixture
async def spec(client) -> dict[str, Any]:
    """The document the running app serves (what /docs shows and the web console is typed from).

    (Not ``scripts.openapi.document()``: building a second app in this process would move
    sanic-ext's shared operation objects to that app.)
    """
    r = await client.get("/docs/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(app: Sanic, spec: dict[str, Any]):
    """(route, method, declaration, operation) of every declared surface route."""
    for route in surface_routes(app):
        decl = declaration(handler_of(route))
        if decl is None:
            continue
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.path)
        item = spec["paths"][path]
        for method in route.methods - {"HEAD", "OPTIONS"}:
            yield route, method, decl, item[method.lower()]


def test_declared_operations_are_complete(app, spec):
    problems = []
    seen = 0
    for route, method, decl, op in operations(app, spec):
        seen += 1
        where = f"{method} /{route.path}"
        if not op.get("summary") or not any("\u4e00" <= c <= "\u9fff" for c in op["summary"]):
            problems.append(f"{where}: no Chinese summary")
        if op.get("security") is None:
            problems.append(f"{where}: no security")
        ok = [s for s in op["responses"] if s.startswith("2")]
        if not ok:
            problems.append(f"{where}: no 2xx response")
        elif not op["responses"][ok[0]].get("content"):
            problems.append(f"{where}: 2xx without a schema")
        errors = [s for s in op["responses"] if s[0] in "45"]
        if not errors:
            problems.append(f"{where}: no error responses")
        for status in errors:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            if schema != {"$ref": "#/components/schemas/Error"}:
                problems.append(f"{where}: {status} not the Error schema")
        documented = decl.body is not None or decl.body_doc is not None or decl.files
        if documented and "requestBody" not in op:
            problems.append(f"{where}: body not documented")
        if decl.query is not None:
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            if set(decl.query.model_fields) - names:
                problems.append(f"{where}: query parameters not documented")
        for param in route.params.values():
            if not any(p["name"] == param.name for p in op.get("parameters", [])):
                problems.append(f"{where}: path parameter {param.name} not documented")
    assert seen >= 14
    assert not problems, problems
    # every $ref points at a component
    import json

    text = json.dumps(spec)
    for ref in {part.split('"', 1)[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in spec["components"]["schemas"], ref
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"].lower() == "bearer"
    assert schemes["deviceSignature"]["name"] == "X-Signature"


def test_binding_refusal_documented_where_access_asks_for_it(app, spec):
    """A route for bound WeChat users documents their 403 not_bound without saying it again."""
    bound = [
        (route, op) for route, _, decl, op in operations(app, spec) if decl.access.needs_binding
    ]
    assert len(bound) >= 9
    for route, op in bound:
        assert "not_bound" in op["responses"]["403"]["description"], route.path


class Other(Query):
    """A query model no handler below takes."""


# --- the declaration at work ----------------------------------------------------------------------


async def test_query_body_and_path_checked_before_the_handler(client, redis):
    from tests.factories import auth, enterprise_token, make_enterprise, make_project

    world = await make_project()
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    base = f"/admin/v1/projects/{world.project.code}"
    r = await client.get(f"{base}/teams?team=1", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "unknown_parameter"
    assert r.json()["field"] == "team" and "team" in r.json()["message"]
    r = await client.get(f"{base}/teams?on_site=maybe", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "on_site"
    assert "班组状态" in r.json()["message"]
    r = await client.get(f"{base}/teams?page_size=501", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "out_of_range"
    r = await client.get(f"{base}/teams?page={2**64}", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "page"
    r = await client.get(f"{base}/teams?on_site=false&name=x", headers=h)
    assert r.status_code == 200 and r.json() == {"data": [], "total": 0}
    # a route without a query model refuses any parameter
    r = await client.get(f"{base}/work-types?x=1", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "x"

    url = f"{base}/teams"
    r = await client.post(url, headers=h, json={"name": "甲" * 65, "unit_id": world.gc.id})
    assert r.status_code == 422 and r.json()["field"] == "name"
    assert r.json()["message"] == "班组名称不能超过64个字符"
    r = await client.post(url, headers=h, json={"name": "钢筋班"})
    assert r.status_code == 422 and r.json() == {
        "code": "required",
        "message": "请填写所属单位",
        "field": "unit_id",
    }
    r = await client.post(url, headers=h, json={"name": "钢筋班", "unit_id": 2**70})
    assert r.status_code == 422 and r.json()["field"] == "unit_id"
    r = await client.post(
        url,
        headers={**h, "content-type": "application/json"},
        content=b'{"name": "x", "unit_id": 1, "leader": Infinity}',
    )
    assert r.status_code == 422
    r = await client.post(url, headers=h, json={"name": "钢筋班", "unit_id": 1, "colour": "red"})
    assert r.status_code == 422 and r.json()["field"] == "colour"
    r = await client.post(url, headers=h, json={"name": "钢筋班", "unit_id": world.gc.id})
    assert r.status_code == 201 and r.json()["name"] == "钢筋班"

    r = await client.get(f"{base}/teams/{2**63}", headers=h)
    assert r.status_code == 404 and r.json()["field"] == "team_id"
    r = await client.get(f"/admin/v1/projects/{'P' * 200}/teams", headers=h)
    assert r.status_code == 404

    # access is checked first: anonymous 401, a company not on the project 404, no data touched
    r = await client.post(url, json={"name": "乙班", "unit_id": world.gc.id})
    assert r.status_code == 401
    stranger = auth(await enterprise_token(redis, await make_enterprise()))
    r = await client.post(url, headers=stranger, json={"name": "乙班", "unit_id": world.gc.id})
    assert r.status_code == 404 and r.json()["code"] == "project_not_found"
    r = await client.get(f"{base}/teams?name=乙班", headers=h)
    assert r.json()["total"] == 0


def test_query_and_body_models_come_from_the_handler_annotations():
    """Each model is written once, on the handler; an ``endpoint(query=/body=)`` that disagrees
    with the annotation, or an annotation that is no model, fails when the module is imported."""
    from realname.contract import Access, endpoint

    async def listing(request: Any, query: PageQuery, body: Body) -> Any: ...

    decl = declaration(endpoint(summary="列表", access=Access.public())(listing))
    assert decl is not None and decl.query is PageQuery and decl.body is Body
    # an explicit model the handler agrees with, or one for a handler that does not take it
    agreeing = endpoint(summary="列表", access=Access.public(), query=PageQuery)(listing)
    assert declaration(agreeing).query is PageQuery  # type: ignore[union-attr]

    async def no_query(request: Any) -> Any: ...

    checked = endpoint(summary="列表", access=Access.public(), query=Other)(no_query)
    assert declaration(checked).query is Other  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="query=Other"):
        endpoint(summary="列表", access=Access.public(), query=Other)(listing)

    async def untyped(request: Any, body: dict) -> Any: ...

    with pytest.raises(TypeError, match="body"):
        endpoint(summary="新增", access=Access.public())(untyped)

    async def wrong_base(request: Any, query: BaseModel) -> Any: ...

    with pytest.raises(TypeError, match="Query"):
        endpoint(summary="列表", access=Access.public())(wrong_base)


async def test_interactive_docs_need_no_cdn(client):
    r = await client.get("/docs", follow_redirects=True)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert "SwaggerUIBundle" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for url in assets:
        r = await client.get(url)
        assert r.status_code == 200 and len(r.content) > 500, url
        kind = {"js": "javascript", "css": "text/css", "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert kind in r.headers["content-type"], url  # the file itself, not the console page
    r = await client.get("/docs/redoc")
    assert r.status_code == 404  # Redoc (CDN only) is not served
    r = await client.get("/docs/swagger-config")
    assert r.json()["validatorUrl"] is None  # no call to validator.swagger.io
    r = await client.get("/docs/openapi.json")
    spec = r.json()
    assert "bearer" in spec["components"]["securitySchemes"]
    assert spec["paths"]["/admin/v1/projects/{code}/teams"]["get"]["summary"] == "班组列表"
