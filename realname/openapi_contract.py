"""The OpenAPI side of `realname.contract`: each declaration becomes a complete operation.

Pydantic models become ``components/schemas`` (their ``$defs`` merged in), errors reference the
one ``Error`` component, and the security schemes (bearer token, device signature headers) are
registered once on sanic-ext's specification builder.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi.builders import OperationStore, SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Parameter

from realname import error_codes as E

if TYPE_CHECKING:
    from realname.contract import Endpoint

REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
DEVICE_SCHEMES = {
    "deviceSn": "X-Device-SN",
    "deviceTimestamp": "X-Timestamp",
    "deviceNonce": "X-Nonce",
    "deviceSignature": "X-Signature",
}
DEVICE: list[dict[str, list[str]]] = [{name: [] for name in DEVICE_SCHEMES}]
ADMS: list[dict[str, list[str]]] = [{"admsSerial": []}]
PLAIN_TEXT = {"text/plain": {"schema": {"type": "string"}}}
STATUS_TEXT = {
    400: "请求有误",
    401: "未登录或登录已过期",
    403: "无权访问",
    404: "记录不存在",
    409: "与当前状态冲突",
    410: "已过期",
    413: "提交的内容过大",
    422: "提交的信息有误",
    429: "操作过于频繁",
    502: "上游服务应答有误",
    503: "服务暂时不可用",
}
BINARY = {"type": "string", "format": "binary"}

SCHEMAS: dict[str, Any] = {}
_installed: set[int] = set()


class ErrorReply(BaseModel):
    """The one error shape of every surface."""

    model_config = ConfigDict(title="Error")

    code: str = Field(description="稳定的错误代码（见 docs/api.md 错误代码表）")
    message: str = Field(description="中文提示")
    field: str | None = Field(None, description="出错的字段")
    detail: Any = Field(None, description="补充信息")


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).strip("_")


def _fix_refs(node: Any) -> Any:
    """Component names as OpenAPI allows them (``Page[X]`` → ``Page_X``)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                out[k] = "#/components/schemas/" + _name(v.rsplit("/", 1)[1])
            else:
                out[k] = _fix_refs(v)
        return out
    if isinstance(node, list):
        return [_fix_refs(v) for v in node]
    return node


def schema_of(model: Any) -> dict[str, Any]:
    """A schema reference for a pydantic model (or any type pydantic can describe)."""
    if model == "binary":
        return BINARY
    if isinstance(model, dict):
        return model
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema = model.model_json_schema(ref_template=REF)
        title = schema.get("title") or model.__name__
    else:
        schema = TypeAdapter(model).json_schema(ref_template=REF)
        title = None
    for name, sub in schema.pop("$defs", {}).items():
        SCHEMAS[_name(name)] = _fix_refs(sub)
    schema = _fix_refs(schema)
    if title is None:
        return schema
    name = _name(str(title))
    SCHEMAS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _error_schema() -> None:
    schema = ErrorReply.model_json_schema(ref_template=REF)
    schema["properties"]["code"]["enum"] = sorted(E.REGISTRY)
    SCHEMAS["Error"] = schema


def document_websockets(app: Sanic) -> None:
    """Sanic runs a websocket handler through a ``functools.partial``, and the builder looks the
    operation up by the handler a route runs: hand each such partial its declared operation."""
    store = OperationStore()
    for route in app.router.routes:
        handler = route.handler
        if isinstance(handler, functools.partial) and handler.args:
            inner = handler.args[0]
            # a declared handler (``realname.contract.declaration``) with its operation
            if getattr(inner, "__endpoint__", None) is not None and inner in store:
                store[handler] = store[inner]


def install(spec: SpecificationBuilder | None = None, app: Sanic | None = None) -> None:
    """Put the components and security schemes on the specification (idempotent) and, given
    the app, the declared operations of its websocket routes. Runs before the document is built."""
    if app is not None:
        document_websockets(app)
    spec = spec or SpecificationBuilder()
    _error_schema()
    for name, schema in SCHEMAS.items():
        spec.add_component("schemas", name, schema)
    if id(spec) in _installed and spec.has_component("securitySchemes", "bearer"):
        return
    spec.add_security_scheme(
        "bearer",
        "http",
        bearer_format="opaque",
        description="登录后获得的令牌（Authorization: Bearer ...，网页端也可用 token Cookie）",
    )
    for name, header in DEVICE_SCHEMES.items():
        spec.add_security_scheme(
            name,
            "apiKey",
            location="header",
            name=header,
            description="终端签名请求头（见 docs/device-protocol.md）",
        )
    spec.add_security_scheme(
        "admsSerial",
        "apiKey",
        location="query",
        name="SN",
        description="ADMS 终端序列号：须已登记为 ADMS 设备并从允许的网络上报",
    )
    _installed.add(id(spec))


# After sanic-ext's ``build_spec`` (priority -1000), which runs after ``install`` (priority 0).
KEEP_DOCUMENT_PRIORITY = -2_000


def keep_document(app: Sanic) -> None:
    """Build the app's document once, at start-up, into ``app.ctx.openapi_document``.

    sanic-ext keeps the specification in process-wide state (one builder, one operation object
    per handler, owned by the app that started last) and builds ``/docs/openapi.json`` from it on
    each request: another app started in the same process (a test's one-surface or dead-Redis
    app) took the shared handlers' operations from the first app's document. The document kept
    here is this app's own, whatever starts later; a path none of its operations documents
    (another app's) is left out."""
    spec = SpecificationBuilder().build(app).serialize()
    spec["paths"] = {path: item for path, item in spec["paths"].items() if item}
    app.ctx.openapi_document = copy.deepcopy(spec)


def serve_kept_document(request: Request) -> HTTPResponse:
    """The request middleware of sanic-ext's ``openapi.spec`` route (``/docs/openapi.json``):
    the document kept at start-up (``keep_document``), not one built from the shared state."""
    return json(request.app.ctx.openapi_document)


def _query_parameters(model: type[BaseModel]) -> list[Parameter]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        SCHEMAS[_name(name)] = _fix_refs(sub)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _fix_refs(prop)
        params.append(
            Parameter(
                name,
                prop,
                "query",
                description=prop.get("description") or prop.get("title"),
                required=name in required,
            )
        )
    return params


def _error_responses(decl: Endpoint) -> dict[str, Any]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for err in decl.errors:
        by_status[err.status].append(err.code)
    if decl.access.is_adms:
        return _adms_error_responses(by_status)
    if decl.access.is_signed_url:
        by_status[E.BAD_SIGNATURE.also[0]].append(E.BAD_SIGNATURE.code)  # 403: URL forged/expired
    elif not decl.access.is_public:
        by_status[401].append(
            E.BAD_SIGNATURE.code if decl.access.is_device else E.NOT_AUTHENTICATED.code
        )
        if not decl.access.is_device:
            by_status[403].append(E.WRONG_ACCOUNT_KIND.code)
        if decl.access.needs_binding:
            by_status[403].append(E.NOT_BOUND.code)  # a WeChat user not bound yet
    if decl.access.needs_project:
        by_status[404].append(E.PROJECT_NOT_FOUND.code)
        by_status[403].append(E.PROJECT_FORBIDDEN.code)
    by_status[422].append(E.INVALID_FIELD.code)  # path parameters, query, body
    out: dict[str, Any] = {}
    for status in sorted(by_status):
        codes = sorted(set(by_status[status]))
        out[str(status)] = {
            "description": f"{STATUS_TEXT.get(status, '错误')}（{', '.join(codes)}）",
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    return out


# What ``/iclock`` answers before or instead of its handler, always as plain text ``ERROR: ...``
# (devices.adms.views): terminals read no JSON.
ADMS_REFUSALS = {
    400: "缺少或过长的 SN，或请求无法解析",
    403: "设备未登记、不是 ADMS 设备、不在允许的网络、未绑定项目或已被强制下线",
    413: "提交的内容过大",
    422: "查询参数不正确",
}


def _adms_error_responses(by_status: dict[int, list[str]]) -> dict[str, Any]:
    """ADMS errors: plain text ``ERROR: <code or reason>``, never the JSON Error."""
    statuses = set(ADMS_REFUSALS) | set(by_status)
    return {
        str(status): {
            "description": ADMS_REFUSALS.get(status) or STATUS_TEXT.get(status, "错误"),
            "content": PLAIN_TEXT,
        }
        for status in sorted(statuses)
    }


def register(handler: Any, decl: Endpoint) -> None:
    """Fill sanic-ext's operation for `handler` from its declaration."""
    op = OperationStore()[handler]
    op.describe(summary=decl.summary, description=decl.description or None)
    op.disable_autodoc()
    if decl.query is not None:
        op.parameters = _query_parameters(decl.query)
    if decl.body_doc is not None and decl.body is None:
        op.requestBody = {  # type: ignore[assignment]
            "required": True,
            "content": {"application/json": {"schema": schema_of(decl.body_doc)}},
        }
    elif decl.body is not None or decl.files:
        if decl.form or decl.files:
            schema: dict[str, Any] = (
                dict(schema_of(decl.body)) if decl.body is not None else {"type": "object"}
            )
            if decl.files:
                props = {f: BINARY for f in decl.files}
                schema = {"allOf": [schema, {"type": "object", "properties": props}]}
            content = {"multipart/form-data": {"schema": schema}}
            if decl.body is not None:
                content["application/json"] = {"schema": schema_of(decl.body)}
        else:
            content = {"application/json": {"schema": schema_of(decl.body)}}
        op.requestBody = {"required": True, "content": content}  # type: ignore[assignment]
    ok_content = (
        {decl.content_type: {"schema": schema_of(decl.response)}}
        if decl.response is not None
        else {}
    )
    responses: dict[str, Any] = {
        str(decl.status): {"description": "成功", **({"content": ok_content} if ok_content else {})}
    }
    if decl.redirect:
        responses["302"] = {
            "description": decl.redirect,
            "headers": {"Location": {"description": "跳转地址", "schema": {"type": "string"}}},
        }
    responses.update(_error_responses(decl))
    op.responses = responses
    if decl.access.is_public or decl.access.is_signed_url:
        op.security = [{}]
    elif decl.access.is_adms:
        op.security = list(ADMS)
    elif decl.access.is_device:
        op.security = list(DEVICE)
    else:
        op.security = list(BEARER)
