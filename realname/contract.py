"""The API contract: one declaration per route says who may call it, what it takes and returns.

    @bp.get("/<code:str>/teams")
    @endpoint(summary="班组列表", access=Access.project(VIEW), response=Page[TeamPublic])
    async def list_teams(request, query: TeamQuery, access: ProjectAccess): ...

Before the handler runs, the wrapper enforces ``access`` (deny by default: a route of the three
surfaces without a declaration fails ``tests/foundation/test_contract.py``), checks the path
parameters (ints within the database's range, bounded strings), parses the query string with the
``query`` model (unknown parameters are refused with 422 naming them) and the body with the
``body`` model (JSON, or a multipart/url-encoded form when ``form=True``) — the models are the
annotations of the handler's ``query`` and ``body`` parameters, written once — and hands the typed
objects to the handler by parameter name (``query``, ``body``, ``access``, ``principal``; the
project ``code`` of the path only to a handler that names it). A
pydantic failure becomes the one error shape ``{code, message, field}`` with a Chinese message.
The same declaration registers the OpenAPI operation (summary, parameters, requestBody, 2xx
schema, error responses referencing the ``Error`` component, security). See docs/contract.md.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sanic import Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname import openapi_contract
from realname.error_codes import ErrorCode
from realname.errors import Forbidden, NotAuthenticated, ValidationError
from realname.web import Handler
from services import identity
from services.identity import Principal, ProjectAccess

# ints in paths and queries: ids are 32-bit columns on PostgreSQL
INT_MAX = 2**31 - 1
PATH_STR_MAX = 64

KINDS = ("enterprise", "person", "regulator", "operator")


# --- access --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One way in: principal kinds (empty = any signed-in kind) and, optionally, a project cap."""

    kinds: frozenset[str] = frozenset()
    cap: str | None = None  # a capability on the project named by the ``code`` path parameter
    public: bool = False
    device: bool = False
    bound: bool = False  # a WeChat user (kind person) must be bound to a person
    provincial: bool = False  # a regulator of a province (region code ``xx0000``)
    signed_url: bool = False  # whoever holds a URL the platform signed (checked by the handler)
    adms: bool = False  # a ZKTeco ADMS terminal named by its ``SN`` (a kind of device)

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.adms:
            return "adms"
        if self.device:
            return "device"
        if self.signed_url:
            return "signed-url"
        who = "|".join(sorted(self.kinds)) or "signed-in"
        if self.bound:
            who += "(bound)"
        if self.provincial:
            who += "(province)"
        return f"{who} with project:{self.cap}" if self.cap else who


@dataclass(frozen=True)
class Access:
    """Who may call a route: one or more rules (``a | b``: either suffices)."""

    rules: tuple[Rule, ...]

    def __or__(self, other: Access) -> Access:
        return Access(self.rules + other.rules)

    @staticmethod
    def public() -> Access:
        """Anyone, signed in or not (sign-in start, public project query)."""
        return Access((Rule(public=True),))

    @staticmethod
    def device() -> Access:
        """A terminal signing its requests (X-Device-SN, X-Timestamp, X-Nonce, X-Signature)."""
        return Access((Rule(device=True),))

    @staticmethod
    def adms() -> Access:
        """A ZKTeco ADMS terminal: no signature, named by the ``SN`` query parameter, served only
        when registered for ADMS and reporting from its allowed network (``devices.adms``);
        its replies and errors are plain text."""
        return Access((Rule(device=True, adms=True),))

    @staticmethod
    def signed_url() -> Access:
        """Whoever holds a URL the platform signed (a firmware download: ``sn``, ``expires``,
        ``sig`` in the query, checked by the handler); no token, no device headers."""
        return Access((Rule(signed_url=True),))

    @staticmethod
    def signed_in() -> Access:
        """Any signed-in principal (what it then sees is scoped by the service)."""
        return Access((Rule(),))

    @staticmethod
    def kinds(*kinds: str, bound: bool = False) -> Access:
        """Signed-in principals of these kinds (``enterprise``, ``person``, ``regulator``...);
        ``bound``: a WeChat user must have completed real-name binding (else 403 ``not_bound``)."""
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds:
            raise ValueError(f"unknown principal kinds {sorted(unknown)}")
        return Access((Rule(kinds=frozenset(kinds), bound=bound),))

    @staticmethod
    def provincial_regulator() -> Access:
        """Regulators of a province (not of a city or county)."""
        return Access((Rule(kinds=frozenset({"regulator"}), provincial=True),))

    @staticmethod
    def project(cap: str = identity.VIEW, *kinds: str) -> Access:
        """A caller holding `cap` on the project ``<code>`` of the path (optionally of `kinds`)."""
        if cap not in (identity.VIEW, identity.MANAGE, identity.VIEW_PII, identity.REVIEW):
            raise ValueError(f"unknown capability {cap!r}")
        return Access((Rule(kinds=frozenset(kinds), cap=cap),))

    @property
    def is_public(self) -> bool:
        return any(r.public for r in self.rules)

    @property
    def is_device(self) -> bool:
        return any(r.device for r in self.rules)

    @property
    def is_adms(self) -> bool:
        return any(r.adms for r in self.rules)

    @property
    def is_signed_url(self) -> bool:
        return any(r.signed_url for r in self.rules)

    @property
    def needs_project(self) -> bool:
        return any(r.cap for r in self.rules)

    @property
    def needs_binding(self) -> bool:
        return any(r.bound for r in self.rules)

    def describe(self) -> str:
        return " | ".join(r.describe() for r in self.rules)

    def allows_kind(self, kind: str) -> bool:
        """Whether a principal of `kind` can pass some rule (before project standing is checked)."""
        return any(
            r.public or (not r.device and not r.signed_url and (not r.kinds or kind in r.kinds))
            for r in self.rules
        )

    async def enforce(self, request: Request, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Check the caller; return what to hand the handler (``principal``, ``access``)."""
        if self.is_public or self.is_device or self.is_signed_url:
            return {}  # device signatures are verified by devices.signing, URL signatures by the
            # handler
        from realname.web import current_principal

        principal = await current_principal(request)  # NotAuthenticated without a valid token
        denied: Exception | None = None
        for rule in self.rules:
            if rule.kinds and principal.kind not in rule.kinds:
                denied = denied or Forbidden(
                    E.WRONG_ACCOUNT_KIND.message, code=E.WRONG_ACCOUNT_KIND.code
                )
                continue
            if rule.bound and principal.kind == "person" and not principal.person_id:
                denied = denied or Forbidden(E.NOT_BOUND.message, code=E.NOT_BOUND.code)
                continue
            if rule.provincial and not is_provincial(principal):
                denied = denied or Forbidden(
                    E.WRONG_ACCOUNT_KIND.message, code=E.WRONG_ACCOUNT_KIND.code
                )
                continue
            if rule.cap is None:
                return {"principal": principal}
            try:
                access = await identity.project_access(principal, str(kwargs["code"]), rule.cap)
            except Exception as exc:  # noqa: BLE001 - try the next rule, report the first
                denied = denied or exc
                continue
            from services import localtime

            localtime.use_project(access.project)
            return {"principal": principal, "access": access}
        raise denied or Forbidden()


def is_provincial(principal: Principal) -> bool:
    """A regulator of a whole province (6-digit code ending in 0000)."""
    code = principal.region_code or ""
    return principal.kind == "regulator" and len(code) == 6 and code.endswith("0000")


# --- request models ------------------------------------------------------------------------------


class Query(BaseModel):
    """Base of query-string models: unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageQuery(Query):
    """``page`` (1-based) and ``page_size``, shared by every list."""

    page: int = Field(1, ge=1, le=100_000, title="页码")
    page_size: int = Field(10, ge=1, le=500, title="每页条数")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


class Body(BaseModel):
    """Base of JSON body models: unknown fields are refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list reply: ``{"data": [...], "total": n}``."""

    data: list[T]
    total: int


class Deleted(BaseModel):
    deleted: bool


# --- validation messages -------------------------------------------------------------------------

_MESSAGES: dict[str, str] = {
    "missing": "请填写{label}",
    "string_too_long": "{label}不能超过{max_length}个字符",
    "string_too_short": "{label}至少{min_length}个字符",
    "string_pattern_mismatch": "{label}格式不正确",
    "string_type": "{label}应为文本",
    "int_parsing": "{label}应为整数",
    "int_type": "{label}应为整数",
    "int_from_float": "{label}应为整数",
    "float_parsing": "{label}应为数字",
    "float_type": "{label}应为数字",
    "finite_number": "{label}应为有限数值",
    "bool_parsing": "{label}应为 true 或 false",
    "bool_type": "{label}应为 true 或 false",
    "greater_than_equal": "{label}不能小于{ge}",
    "greater_than": "{label}应大于{gt}",
    "less_than_equal": "{label}不能大于{le}",
    "less_than": "{label}应小于{lt}",
    "date_parsing": "{label}格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "{label}格式应为 YYYY-MM-DD",
    "date_type": "{label}格式应为 YYYY-MM-DD",
    "datetime_parsing": "{label}格式应为 ISO 8601 时间",
    "datetime_from_date_parsing": "{label}格式应为 ISO 8601 时间",
    "enum": "{label}不在可选范围内",
    "literal_error": "{label}不在可选范围内",
    "extra_forbidden": "不支持的字段{name}",
    "list_type": "{label}应为数组",
    "too_long": "{label}条目过多",
    "too_short": "{label}条目过少",
    "dict_type": "{label}应为对象",
    "model_type": "{label}应为对象",
    "model_attributes_type": "请求体应为 JSON 对象",
    "value_error": "{label}不正确",
}
_CODES: dict[str, ErrorCode] = {
    "missing": E.REQUIRED,
    "extra_forbidden": E.INVALID_FIELD,
    "greater_than_equal": E.OUT_OF_RANGE,
    "greater_than": E.OUT_OF_RANGE,
    "less_than_equal": E.OUT_OF_RANGE,
    "less_than": E.OUT_OF_RANGE,
    "date_parsing": E.INVALID_DATE,
    "date_from_datetime_parsing": E.INVALID_DATE,
    "date_type": E.INVALID_DATE,
    "enum": E.INVALID_CHOICE,
    "literal_error": E.INVALID_CHOICE,
}


def _label(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The Chinese label (the field's ``title``) of an error location, else its name."""
    current: Any = model
    label = ".".join(str(p) for p in loc)
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            break
        info = fields[part]
        label = info.title or str(part)
        current = info.annotation
    return label


def validation_error(
    model: type[BaseModel], exc: PydanticError, *, where: str = "body"
) -> ValidationError:
    """The first pydantic error as our ValidationError (field named, Chinese message)."""
    err = exc.errors(include_url=False, include_input=True)[0]
    loc = tuple(err.get("loc") or ())
    name = ".".join(str(p) for p in loc) or where
    kind = str(err.get("type", ""))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    if kind == "extra_forbidden" and where == "query":
        return ValidationError(
            f"不支持的查询参数：{name}", code=E.UNKNOWN_PARAMETER.code, field=name
        )
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        kind = "missing"  # an empty text field is a field not filled in
    if kind in ("literal_error", "enum") and err.get("input") in ("", None):
        return ValidationError(
            f"请选择{_label(model, loc)}", code=E.REQUIRED.code, field=name
        )  # an empty choice is a choice not made
    template = _MESSAGES.get(kind)
    if template is None:
        message = f"{_label(model, loc)}不正确"
    else:
        try:
            message = template.format(label=_label(model, loc), name=name, **ctx)
        except (KeyError, IndexError):
            message = f"{_label(model, loc)}不正确"
    if kind == "value_error" and ctx.get("error"):
        message = str(ctx["error"])
    code = _CODES.get(kind, E.INVALID_FIELD)
    return ValidationError(message, code=code.code, field=name)


def storable(text: str) -> bool:
    """Text a column can hold: no NUL (PostgreSQL refuses it) and no lone surrogate (no UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject_unstorable(value: Any, depth: int = 0) -> None:
    """Refuse what no column stores anywhere in a body: NaN/Infinity (Python's JSON parser
    accepts them), text or keys with NUL or a lone surrogate."""
    if depth > 64:
        raise ValidationError("请求体嵌套层级过深", code=E.MALFORMED_JSON.code, status=422)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError("数值应为有限数值", code=E.INVALID_FIELD.code)
    if isinstance(value, str) and not storable(value):
        raise ValidationError(UNSTORABLE, code=E.INVALID_FIELD.code)
    if isinstance(value, dict):
        for k, v in value.items():
            if not storable(str(k)):
                raise ValidationError(UNSTORABLE, code=E.INVALID_FIELD.code)
            _reject_unstorable(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _reject_unstorable(v, depth + 1)


UNSTORABLE = "提交的内容含有无法保存的字符"


def parse_query(request: Request, model: type[Query]) -> Query:
    """The query string as `model` (lists for list-typed fields, first value otherwise)."""
    data: dict[str, Any] = {}
    for key, values in request.args.items():
        if not all(storable(v) for v in (key, *values)):
            raise ValidationError(UNSTORABLE, code=E.INVALID_FIELD.code, field=key)
        info = model.model_fields.get(key)
        origin = getattr(info.annotation, "__origin__", None) if info else None
        data[key] = values if origin in (list, tuple, set) else values[0]
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise validation_error(model, exc, where="query") from exc
    except (TypeError, ValueError) as exc:  # a constraint that could not even be applied
        raise ValidationError(code=E.INVALID_FIELD.code) from exc


def parse_body(request: Request, model: type[BaseModel], *, form: bool = False) -> BaseModel:
    """The JSON body (or, with `form`, the multipart/url-encoded fields) as `model`."""
    from admin_api._forms import fields_of
    from realname.web import body_of

    data = fields_of(request) if form else body_of(request)
    _reject_unstorable(data)
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise validation_error(model, exc) from exc
    except (TypeError, ValueError) as exc:  # a constraint that could not even be applied
        raise ValidationError(code=E.INVALID_FIELD.code) from exc


def check_path(kwargs: dict[str, Any]) -> None:
    """Path parameters: ints within the id range, strings bounded (else 404: no such record)."""
    from realname.errors import NotFound

    for name, value in kwargs.items():
        if isinstance(value, int) and not 0 <= value <= INT_MAX:
            raise NotFound(E.NOT_FOUND.message, code=E.NOT_FOUND.code, field=name)
        if isinstance(value, str) and (len(value) > PATH_STR_MAX or not storable(value)):
            raise NotFound(E.NOT_FOUND.message, code=E.NOT_FOUND.code, field=name)


SURFACE_PATHS = ("/admin/v1/", "/miniapp/v1/", "/device/v1/")


async def guard_path(request: Request) -> None:
    """Request middleware: the path-parameter check for every surface route, declared or not
    (an id beyond the column's range or an over-long code never reaches the database)."""
    if request.route is not None and request.path.startswith(SURFACE_PATHS):
        check_path(dict(request.match_info))


# --- the declaration -----------------------------------------------------------------------------


@dataclass
class Endpoint:
    """A route's declaration (kept on the handler as ``__endpoint__``)."""

    summary: str
    access: Access
    query: type[Query] | None = None
    body: type[BaseModel] | None = None
    form: bool = False
    files: tuple[str, ...] = ()
    response: Any = None
    content_type: str = "application/json"
    status: int = 200
    errors: tuple[ErrorCode, ...] = ()
    body_doc: Any = None  # a body documented only: the handler reads and checks it itself
    redirect: str = ""  # what a 302 reply means, when the route may redirect instead
    description: str = ""
    handler: Any = None
    injects: frozenset[str] = field(default_factory=frozenset)

    SCHEMAS: ClassVar[dict[str, Any]] = {}


def _model_of(func: Handler, name: str, given: type[Any] | None, base: type[Any]) -> Any:
    """The model the handler's `name` parameter (``query`` or ``body``) is annotated with, or
    `given` for a handler without that parameter; a disagreement fails at import."""
    if name not in inspect.signature(func).parameters:
        return given
    where = f"{func.__module__}.{func.__qualname__}"
    try:
        annotated = typing.get_type_hints(func).get(name)
    except NameError as exc:  # an annotation naming what the module does not define
        raise TypeError(f"{where}: its annotations must name module-level types") from exc
    if not (isinstance(annotated, type) and issubclass(annotated, base)):
        raise TypeError(f"{where}: parameter {name!r} must be annotated with a {base.__name__}")
    if given is not None and given is not annotated:
        raise TypeError(f"{where}: {name}={given.__name__} but the handler takes {annotated!r}")
    return annotated


def endpoint(
    *,
    summary: str,
    access: Access,
    query: type[Query] | None = None,
    body: type[BaseModel] | None = None,
    form: bool = False,
    files: Iterable[str] = (),
    response: Any = None,
    content_type: str = "application/json",
    status: int = 200,
    errors: Iterable[ErrorCode] = (),
    body_doc: Any = None,
    redirect: str = "",
) -> Callable[[Handler], Handler]:
    """Declare a route (see the module docstring); put it under the blueprint's route decorator.

    The query and body models come from the handler's annotated ``query`` and ``body``
    parameters; `query` / `body` given here are for a handler that does not take the parsed
    model itself (it is still checked), and must agree with the annotation when it does."""
    if not summary:
        raise ValueError("every endpoint needs a Chinese summary")

    def deco(func: Handler) -> Handler:
        params = inspect.signature(func).parameters
        injects = frozenset(p for p in ("query", "body", "access", "principal") if p in params)
        # the project code of the path is the wrapper's (``access`` carries the project): a
        # handler names it only when it uses it
        drop_code = "code" not in params and not any(
            p.kind is p.VAR_KEYWORD for p in params.values()
        )
        query_model = _model_of(func, "query", query, Query)
        body_model = _model_of(func, "body", body, BaseModel)
        decl = Endpoint(
            summary=summary,
            access=access,
            query=query_model,
            body=body_model,
            form=form,
            files=tuple(files),
            response=response,
            content_type=content_type,
            status=status,
            errors=tuple(errors),
            body_doc=body_doc,
            redirect=redirect,
            description=(inspect.getdoc(func) or "").strip(),
            handler=func,
            injects=injects,
        )

        @wraps(func)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            check_path(kwargs)
            given = await access.enforce(request, kwargs)
            if query_model is not None:
                given["query"] = parse_query(request, query_model)
            elif request.args and not (access.is_device or access.is_signed_url):
                name = next(iter(request.args))
                raise ValidationError(
                    f"不支持的查询参数：{name}", code=E.UNKNOWN_PARAMETER.code, field=name
                )
            if body_model is not None:
                given["body"] = parse_body(request, body_model, form=form)
            for key in injects:
                if key not in given:
                    if key == "principal" and not (
                        access.is_public or access.is_device or access.is_signed_url
                    ):
                        raise NotAuthenticated()
                    given[key] = None
                kwargs[key] = given[key]
            if drop_code:
                kwargs.pop("code", None)
            return await func(request, *args, **kwargs)

        wrapper.__endpoint__ = decl  # type: ignore[attr-defined]
        wrapper.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [p for n, p in params.items() if n not in injects]
        )
        openapi_contract.register(wrapper, decl)
        return wrapper

    return deco


def declaration(handler: Any) -> Endpoint | None:
    """The declaration of a route handler, or None."""
    return getattr(handler, "__endpoint__", None)


__all__ = [
    "Access",
    "Body",
    "Deleted",
    "E",
    "Endpoint",
    "Page",
    "PageQuery",
    "Principal",
    "ProjectAccess",
    "Query",
    "declaration",
    "endpoint",
]
