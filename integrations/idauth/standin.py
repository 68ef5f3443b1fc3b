"""Development stand-in for the provincial identity platform, speaking OAuth2 (RFC 6749 + 7636).

`GET /oauth2/authorize` shows a small page listing demo companies and demo regulator departments
(主管部门); picking one (or passing `login_hint=<credit code>` or
`login_hint=regulator:<region code>` for scripts and tests) redirects to
`redirect_uri?code=&state=`, but only to a registered `redirect_uri` (exact match; anything else
is an error page, never a redirect).
`POST /oauth2/token` redeems a code (single use, 5 minutes, PKCE S256 required) and
`GET /oauth2/userinfo` returns the account's claims: a company's `credit_code`, or a department's
`region_code` (the region it administers). Codes and tokens live in this process only.

Run standalone with `python -m integrations.idauth.standin --port 8802`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, redirect
from stdnum.cn import uscc

from integrations.standin import bare_app, command_line, serve

DEFAULT_CLIENT_ID = "realname-dev"
DEFAULT_CLIENT_SECRET = "realname-dev-secret"
CODE_TTL = 300
TOKEN_TTL = 3600
TITLE = "青海省统一身份认证平台（开发替身）"
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

Companies = list[dict[str, Any]]
CompanySource = Companies | Callable[[], Companies | Awaitable[Companies]]


def _with_check_digit(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


DEMO_COMPANIES: Companies = [
    {"credit_code": _with_check_digit("91630100MA7QHJ001"), "name": "青海高原建设工程有限公司"},
    {"credit_code": _with_check_digit("91630104MA7QHJ002"), "name": "西宁河湟劳务分包有限公司"},
]


DEMO_REGULATORS: Companies = [
    {"region_code": "630000", "name": "青海省住房和城乡建设厅"},
    {"region_code": "630100", "name": "西宁市住房和城乡建设局"},
    {"region_code": "630102", "name": "西宁市城东区住房和城乡建设局"},
    # the demo's other review chains (项目状态变更 waiting at 海东市, at 海南州 after 贵德县)
    {"region_code": "630200", "name": "海东市住房和城乡建设局"},
    {"region_code": "632500", "name": "海南藏族自治州住房和城乡建设局"},
    {"region_code": "632523", "name": "贵德县住房和城乡建设局"},
]
REGULATOR_HINT = "regulator:"


def account_id_for(credit_code: str) -> str:
    """The stable `sub` the stand-in gives a company without an explicit `account`."""
    return "acct-" + hashlib.sha256(credit_code.encode()).hexdigest()[:16]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _oauth_error(error: str, description: str, status: int = 400) -> HTTPResponse:
    return json(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _page(body: str, status: int = 200) -> HTTPResponse:
    return html(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{TITLE}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;"
        "padding:0 1em}li{margin:.6em 0}.err{color:#b00}</style></head>"
        f"<body><h1>{TITLE}</h1>{body}</body></html>",
        status=status,
    )


def idauth_standin_blueprint(
    url_prefix: str = "/_dev/idauth",
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    companies: CompanySource | None = None,
    regulators: Companies | None = None,
    name: str = "idauth_standin",
    redirect_uris: tuple[str, ...] | None = None,
) -> Blueprint:
    """A Blueprint serving OAuth2 authorize/token/userinfo for demo companies.

    `companies` is a list of `{"credit_code", "name", "account"?}` dicts or a (sync or async)
    callable returning one; by default two built-in demo companies. `regulators` are the
    departments (`{"region_code", "name", "account"?}`; by default three). `redirect_uris` are the
    client's registered callback URLs (exact match, RFC 6749 §3.1.2); by default the app's
    `effective_idauth_redirect_url` when mounted in it.
    """
    bp = Blueprint(name, url_prefix=url_prefix or None)
    codes: dict[str, dict[str, Any]] = {}
    tokens: dict[str, dict[str, Any]] = {}
    departments = list(DEMO_REGULATORS if regulators is None else regulators)

    async def company_list() -> Companies:
        source = DEMO_COMPANIES if companies is None else companies
        result = source() if callable(source) else source
        if inspect.isawaitable(result):
            result = await result
        return list(result)

    def registered(request: Request) -> tuple[str, ...]:
        if redirect_uris is not None:
            return redirect_uris
        settings = getattr(request.app.ctx, "settings", None)
        url = getattr(settings, "effective_idauth_redirect_url", "")
        return (url,) if url else ()

    def purge(store: dict[str, dict[str, Any]]) -> None:
        now = time.monotonic()
        for key in [k for k, v in store.items() if v["expires"] < now]:
            del store[key]

    async def login_page(request: Request, error: str = "") -> HTTPResponse:
        params = {k: request.args.get(k, "") for k in AUTHORIZE_PARAMS}
        items = []
        for company in await company_list():
            link = "?" + urlencode({**params, "login_hint": company["credit_code"]})
            items.append(
                f"<li><a href='{escape(link)}'>{escape(company['name'])}</a>"
                f"（统一社会信用代码 {escape(company['credit_code'])}）</li>"
            )
        departments_html = "".join(
            "<li><a href='{}'>{}</a>（行政区划 {}）</li>".format(
                escape(
                    "?" + urlencode({**params, "login_hint": REGULATOR_HINT + d["region_code"]})
                ),
                escape(d["name"]),
                escape(d["region_code"]),
            )
            for d in departments
        )
        hidden = "".join(
            f"<input type='hidden' name='{k}' value='{escape(v)}'>" for k, v in params.items()
        )
        body = (
            (f"<p class='err'>{escape(error)}</p>" if error else "")
            + "<p>请选择要登录的企业：</p><ul>"
            + ("".join(items) or "<li>暂无演示企业</li>")
            + "</ul><form method='get'><p>或输入统一社会信用代码：</p>"
            + hidden
            + "<input name='login_hint' maxlength='18' required "
            + "placeholder='18 位统一社会信用代码'> "
            + "<input name='company_name' placeholder='企业名称（可选）'> "
            + "<button type='submit'>登录</button></form>"
            + "<p>主管部门账号：</p><ul>"
            + (departments_html or "<li>暂无演示主管部门</li>")
            + "</ul>"
        )
        return _page(body, status=400 if error else 200)

    @bp.get("/oauth2/authorize")
    async def authorize(request: Request) -> HTTPResponse:
        """Show the company picker, or issue a code at once for `login_hint`."""
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != client_id:
            return _page("<p class='err'>未知的应用（client_id 无效）</p>", status=400)
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return _page("<p class='err'>回调地址（redirect_uri）无效</p>", status=400)
        if redirect_uri not in registered(request):
            # Never redirect to an unregistered URI (RFC 6749 §4.1.2.1): codes would leak.
            return _page("<p class='err'>回调地址（redirect_uri）未登记，拒绝授权</p>", status=400)
        state = args.get("state", "")

        def fail(error: str, description: str) -> HTTPResponse:
            extra = {"state": state} if state else {}
            params = {"error": error, "error_description": description, **extra}
            return redirect(_add_query(redirect_uri, params))

        if args.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        challenge = args.get("code_challenge", "")
        if not challenge or args.get("code_challenge_method") != "S256":
            return fail("invalid_request", "PKCE with code_challenge_method=S256 is required")

        hint = args.get("login_hint", "")
        if not hint:
            return await login_page(request)
        if hint.startswith(REGULATOR_HINT):
            region = hint[len(REGULATOR_HINT) :]
            account = next((d for d in departments if d["region_code"] == region), None)
            if account is None:
                return await login_page(request, error=f"未知的主管部门：{region}")
            return issue(request, redirect_uri, challenge, state, {**account, "regulator": True})
        credit_code = uscc.compact(hint)
        if not uscc.is_valid(credit_code):
            return await login_page(request, error=f"统一社会信用代码无效：{hint}")
        company = next(
            (c for c in await company_list() if c["credit_code"] == credit_code),
            None,
        )
        if company is None:
            name = args.get("company_name", "").strip() or f"演示企业（{credit_code}）"
            company = {"credit_code": credit_code, "name": name}

        return issue(request, redirect_uri, challenge, state, company)

    def issue(
        request: Request, redirect_uri: str, challenge: str, state: str, who: dict[str, Any]
    ) -> HTTPResponse:
        """An authorization code for the chosen account, back to the client's redirect URI."""
        purge(codes)
        code = secrets.token_urlsafe(32)
        codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "scope": request.args.get("scope", ""),
            "company": who,
            "expires": time.monotonic() + CODE_TTL,
        }
        return redirect(
            _add_query(redirect_uri, {"code": code, **({"state": state} if state else {})})
        )

    @bp.post("/oauth2/token")
    async def token(request: Request) -> HTTPResponse:
        """Redeem an authorization code: client auth, single use, redirect_uri and PKCE checks."""
        form: dict[str, str] = {k: v[0] for k, v in (request.form or {}).items() if v}
        auth = request.headers.get("authorization", "")
        given_id, given_secret = form.get("client_id", ""), form.get("client_secret", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode()
            except ValueError:
                decoded = ""
            raw_id, _, raw_secret = decoded.partition(":")
            given_id, given_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if not (
            hmac.compare_digest(given_id.encode(), client_id.encode())
            and hmac.compare_digest(given_secret.encode(), client_secret.encode())
        ):
            response = _oauth_error("invalid_client", "client authentication failed", 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="idauth"'
            return response
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code is supported")
        code = form.get("code", "")
        if not code:
            return _oauth_error("invalid_request", "code is required")
        entry = codes.pop(code, None)  # single use, whatever happens next
        if entry is None or entry["expires"] < time.monotonic():
            return _oauth_error("invalid_grant", "authorization code is invalid, used or expired")
        if entry["client_id"] != given_id:
            return _oauth_error("invalid_grant", "code was issued to another client")
        if form.get("redirect_uri", "") != entry["redirect_uri"]:
            return _oauth_error("invalid_grant", "redirect_uri does not match")
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(_s256(verifier), entry["challenge"]):
            return _oauth_error("invalid_grant", "PKCE code_verifier does not match")

        purge(tokens)
        access_token = secrets.token_urlsafe(32)
        tokens[access_token] = {
            "company": entry["company"],
            "expires": time.monotonic() + TOKEN_TTL,
        }
        return json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL,
                "scope": entry["scope"],
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @bp.route("/oauth2/userinfo", methods=["GET", "POST"])
    async def userinfo(request: Request) -> HTTPResponse:
        """The company's claims for a Bearer access token."""
        auth = request.headers.get("authorization", "")
        entry = tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if entry is None or entry["expires"] < time.monotonic():
            response = _oauth_error("invalid_token", "access token is invalid or expired", 401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        company = entry["company"]
        if company.get("regulator"):
            return json(
                {
                    "sub": company.get("account") or "dept-" + company["region_code"],
                    "region_code": company["region_code"],
                    "legal_person_name": company["name"],
                    "name": company["name"],
                    "account_type": "regulator",
                }
            )
        return json(
            {
                "sub": company.get("account") or account_id_for(company["credit_code"]),
                "credit_code": company["credit_code"],
                "legal_person_name": company["name"],
                "name": company["name"],
            }
        )

    return bp


def main(argv: list[str] | None = None) -> None:
    """Serve the stand-in on its own: `python -m integrations.idauth.standin --port N`."""
    from config.settings import get_settings

    settings = get_settings()
    parser = command_line("Provincial SSO (OAuth2) development stand-in", 8802)
    parser.add_argument("--client-id", default=settings.idauth_client_id)
    parser.add_argument("--client-secret", default=settings.idauth_client_secret)
    parser.add_argument(
        "--redirect-uri",
        action="append",
        help="a registered callback URL (repeatable; default: the settings' SSO callback)",
    )
    args = parser.parse_args(argv)
    standin = idauth_standin_blueprint(
        url_prefix="",
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=tuple(args.redirect_uri or [settings.effective_idauth_redirect_url]),
    )
    serve(bare_app("idauth-standin", standin), args)


if __name__ == "__main__":
    main()
