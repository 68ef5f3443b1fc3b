"""Development stand-in for the WeChat server API: same paths, parameters and JSON error shapes,
and as strict as the real service where a client could get away with something.

Deterministic and offline:

* a login code is `dev-<user>` or `dev-<user>.<anything>` (what `standin_login_code` makes, like
  wx.login does): the same `<user>` always maps to the same openid; users named `highrisk…` are
  refused as WeChat refuses high-risk accounts (40226);
* a phone code is `phone-<digits>` or `phone-<digits>.<anything>` and yields that number;
* every code is single use (40163 when reused); codes minted through `POST /_mint/login_code` or
  `/_mint/phone_code` (as the phone would get them) also expire after `code_ttl` (5 minutes);
* access tokens: `cgi-bin/token` replaces the previous token, which stays valid `old_token_grace`
  (5 minutes) and then answers 40001; `cgi-bin/stable_token` (POST JSON) keeps one token for its
  lifetime, isolated from `cgi-bin/token`; `force_refresh` invalidates it at once (20 a day, 30 s
  apart);
* mini-program codes are small real PNG images carrying their scene in a tEXt chunk; the scene
  must be 1–32 characters of WeChat's charset, the page must have no leading `/` nor query, be
  published when `check_path` is true (41030), `env_version` release/trial/develop, and at most
  `qr_per_minute` codes are made per minute (45009).

State lives in this process only (one worker).

Run standalone with `python -m integrations.wechat.standin --port 8801`.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from integrations.standin import bare_app, command_line, serve

DEFAULT_APPID = "wx-dev-appid"
DEFAULT_SECRET = "wx-dev-secret"
DEFAULT_PAGE = "pages/scan/index"
TOKEN_EXPIRES_IN = 7200
OLD_TOKEN_GRACE = 300  # a replaced cgi-bin/token token still works this long
STABLE_RENEW_BEFORE = 300  # stable_token hands out a new token this long before expiry
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_INTERVAL = 30
CODE_TTL = 300  # wx.login and getPhoneNumber codes live 5 minutes
USED_CODE_MEMORY = 86400
QR_PER_MINUTE = 5000
SCENE_RE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}")
LOGIN_CODE_RE = re.compile(r"dev-([0-9A-Za-z_-]{1,64})(?:\.[0-9A-Za-z_-]{1,64})?")
PHONE_CODE_RE = re.compile(r"phone-(\d{5,20})(?:\.[0-9A-Za-z_-]{1,64})?")
HIGH_RISK_PREFIX = "highrisk"
ENV_VERSIONS = ("release", "trial", "develop")


def standin_login_code(user: str) -> str:
    """A fresh single-use login code for stand-in user `user` (what wx.login gives the phone)."""
    return f"dev-{user}.{secrets.token_urlsafe(6)}"


def standin_phone_code(phone: str) -> str:
    """A fresh single-use getPhoneNumber code for `phone`."""
    return f"phone-{phone}.{secrets.token_urlsafe(6)}"


def _digest(kind: str, value: str) -> bytes:
    return hashlib.sha256(f"{kind}:{value}".encode()).digest()


def standin_openid(code_suffix: str) -> str:
    """The openid the stand-in gives for login code `dev-<code_suffix>` (28 chars like WeChat)."""
    return "o-" + base64.urlsafe_b64encode(_digest("openid", code_suffix)).decode()[:26]


def standin_session_key(code_suffix: str) -> str:
    """The session_key (base64 of a 16-byte AES key) for login code `dev-<code_suffix>`."""
    return base64.b64encode(_digest("session_key", code_suffix)[:16]).decode()


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def make_png(text: dict[str, str], seed: str, modules: int = 8, scale: int = 4) -> bytes:
    """A valid grayscale PNG with a pattern derived from `seed` and `text` as tEXt chunks."""
    bits = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    size = modules * scale
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type: none
        for x in range(size):
            bit = (bits >> ((y // scale) * modules + x // scale)) & 1
            row.append(0 if bit else 255)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit grayscale
    chunks = [_png_chunk(b"IHDR", header)]
    for key, value in text.items():
        payload = key.encode("latin-1") + b"\0" + value.encode("latin-1", errors="replace")
        chunks.append(_png_chunk(b"tEXt", payload))
    chunks.append(_png_chunk(b"IDAT", zlib.compress(b"".join(rows))))
    chunks.append(_png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _error(errcode: int, errmsg: str) -> HTTPResponse:
    # WeChat reports errors with HTTP 200 and an errcode in the body.
    return json({"errcode": errcode, "errmsg": errmsg})


def wechat_standin_blueprint(
    url_prefix: str = "/_dev/wechat",
    *,
    appid: str = DEFAULT_APPID,
    secret: str = DEFAULT_SECRET,
    name: str = "wechat_standin",
    pages: tuple[str, ...] | None = None,
    token_expires_in: int = TOKEN_EXPIRES_IN,
    old_token_grace: int = OLD_TOKEN_GRACE,
    code_ttl: int = CODE_TTL,
    qr_per_minute: int = QR_PER_MINUTE,
) -> Blueprint:
    """A Blueprint answering WeChat's token, stable_token, jscode2session, QR code and
    phone-number APIs. `pages` are the published pages (default: the app's
    WECHAT_MINIAPP_PAGE when mounted in it, else `pages/scan/index`)."""
    bp = Blueprint(name, url_prefix=url_prefix or None)
    tokens: dict[str, float] = {}  # cgi-bin/token tokens -> expiry (monotonic)
    stable: dict[str, float] = {}  # stable_token tokens -> expiry
    current = {"stable": ""}
    force_refreshes: collections.deque[float] = collections.deque()
    used: dict[str, float] = {}  # code -> when it was redeemed (single use)
    minted: dict[str, float] = {}  # code -> when it was issued (minted codes expire)
    qr_calls: collections.deque[float] = collections.deque()
    stats = {"tokens_issued": 0, "stable_tokens_issued": 0, "stable_token_calls": 0, "qr_codes": 0}

    def published(request: Request) -> tuple[str, ...]:
        if pages is not None:
            return pages
        settings = getattr(request.app.ctx, "settings", None)
        return (getattr(settings, "wechat_miniapp_page", DEFAULT_PAGE),)

    def token_error(request: Request) -> HTTPResponse | None:
        token = request.args.get("access_token", "")
        now = time.monotonic()
        expires = tokens.get(token, stable.get(token))
        if expires is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if expires < now:
            return _error(42001, "access_token expired")
        return None

    def body_json(request: Request) -> dict[str, Any] | None:
        try:
            data = request.json
        except Exception:  # Sanic raises BadRequest on malformed JSON
            return None
        return data if isinstance(data, dict) else None

    def token_and_json(request: Request) -> HTTPResponse | dict[str, Any]:
        """The JSON object of a call made with an access token, or WeChat's error for a bad
        token or body (what the QR-code and phone-number calls check first)."""
        failure = token_error(request)
        if failure is not None:
            return failure
        data = body_json(request)
        return _error(47001, "data format error") if data is None else data

    def credentials_error(
        grant_type: Any, given_appid: Any, given_secret: Any
    ) -> HTTPResponse | None:
        if grant_type != "client_credential":
            return _error(40002, "invalid grant_type")
        if given_appid != appid:
            return _error(40013, "invalid appid")
        if not isinstance(given_secret, str) or not secrets.compare_digest(given_secret, secret):
            return _error(40125, "invalid appsecret")
        return None

    def redeem(code: str) -> HTTPResponse | None:
        """Single use and lifetime of a login or phone code; None when it may be used."""
        now = time.monotonic()
        for store, keep in ((used, USED_CODE_MEMORY), (minted, USED_CODE_MEMORY)):
            for key in [k for k, t in store.items() if t + keep < now]:
                del store[key]
        if code in used:
            return _error(40163, "code been used")
        used[code] = now
        issued = minted.pop(code, None)
        if issued is not None and issued + code_ttl < now:
            return _error(40029, "invalid code")
        return None

    @bp.get("/cgi-bin/token")
    async def token(request: Request) -> HTTPResponse:
        """Issue an access token (client_credential); the previous one expires 5 minutes later."""
        args = request.args
        failure = credentials_error(args.get("grant_type"), args.get("appid"), args.get("secret"))
        if failure is not None:
            return failure
        now = time.monotonic()
        for stale in [t for t, exp in tokens.items() if exp < now]:
            del tokens[stale]
        for old in tokens:
            tokens[old] = min(tokens[old], now + old_token_grace)
        access_token = "standin-" + secrets.token_urlsafe(32)
        tokens[access_token] = now + token_expires_in
        stats["tokens_issued"] += 1
        return json({"access_token": access_token, "expires_in": token_expires_in})

    @bp.post("/cgi-bin/stable_token")
    async def stable_token(request: Request) -> HTTPResponse:
        """The stable access token (POST JSON), isolated from cgi-bin/token."""
        data = body_json(request)
        if data is None:
            return _error(47001, "data format error")
        failure = credentials_error(data.get("grant_type"), data.get("appid"), data.get("secret"))
        if failure is not None:
            return failure
        stats["stable_token_calls"] += 1
        force = data.get("force_refresh", False)
        if not isinstance(force, bool):
            return _error(40097, "invalid args: force_refresh must be a boolean")
        now = time.monotonic()
        for stale in [t for t, exp in stable.items() if exp < now]:
            del stable[stale]
        token_now = current["stable"]
        remaining = stable.get(token_now, 0) - now
        if force:
            while force_refreshes and force_refreshes[0] < now - 86400:
                force_refreshes.popleft()
            if len(force_refreshes) >= FORCE_REFRESH_PER_DAY:
                return _error(45009, "reach max api daily quota limit")
            if force_refreshes and force_refreshes[-1] > now - FORCE_REFRESH_INTERVAL:
                return _error(45011, "api minute-quota reach limit  mustslower  retry next minute")
            force_refreshes.append(now)
            stable.pop(token_now, None)  # force_refresh invalidates the previous token at once
        elif remaining > min(STABLE_RENEW_BEFORE, token_expires_in // 4):
            return json({"access_token": token_now, "expires_in": int(remaining)})
        access_token = "stable-" + secrets.token_urlsafe(32)
        stable[access_token] = now + token_expires_in
        current["stable"] = access_token
        stats["stable_tokens_issued"] += 1
        return json({"access_token": access_token, "expires_in": token_expires_in})

    @bp.get("/sns/jscode2session")
    async def jscode2session(request: Request) -> HTTPResponse:
        """Redeem a login code once for the user's openid and session_key."""
        args = request.args
        if args.get("appid") != appid:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(args.get("secret", ""), secret):
            return _error(40125, "invalid appsecret")
        if args.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        js_code = args.get("js_code", "")
        match = LOGIN_CODE_RE.fullmatch(js_code)
        if match is None:
            return _error(40029, "invalid code")
        if (failure := redeem(js_code)) is not None:
            return failure
        user = match.group(1)
        if user.startswith(HIGH_RISK_PREFIX):
            return _error(40226, "high risk user, login is blocked")
        return json({"openid": standin_openid(user), "session_key": standin_session_key(user)})

    @bp.post("/wxa/getwxacodeunlimit")
    async def getwxacodeunlimit(request: Request) -> HTTPResponse:
        """A PNG mini-program code whose tEXt chunks carry scene and page."""
        data = token_and_json(request)
        if isinstance(data, HTTPResponse):
            return data
        now = time.monotonic()
        while qr_calls and qr_calls[0] < now - 60:
            qr_calls.popleft()
        if len(qr_calls) >= qr_per_minute:
            return _error(45009, "reach max api minute quota limit")
        qr_calls.append(now)
        scene = data.get("scene")
        if not isinstance(scene, str) or not SCENE_RE.fullmatch(scene):
            return _error(40169, "invalid length for scene, or the data is not json string")
        page = data.get("page") or ""
        if not isinstance(page, str) or page.startswith("/") or "?" in page:
            return _error(41030, "invalid page rid: standin")
        check_path = data.get("check_path", True)
        env_version = data.get("env_version", "release")
        if not isinstance(check_path, bool) or env_version not in ENV_VERSIONS:
            return _error(40097, "invalid args")
        if check_path and page and page not in published(request):
            return _error(41030, "invalid page rid: standin")
        stats["qr_codes"] += 1
        png = make_png({"scene": scene, "page": page}, seed=f"{page}?{scene}")
        return raw(png, content_type="image/png")

    @bp.post("/wxa/business/getuserphonenumber")
    async def getuserphonenumber(request: Request) -> HTTPResponse:
        """Redeem a getPhoneNumber button code once for that phone number."""
        data = token_and_json(request)
        if isinstance(data, HTTPResponse):
            return data
        code = data.get("code")
        match = PHONE_CODE_RE.fullmatch(code) if isinstance(code, str) else None
        if match is None:
            return _error(40029, "invalid code")
        if (failure := redeem(code)) is not None:  # type: ignore[arg-type]
            return failure
        digits = match.group(1)
        return json(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": digits,
                    "purePhoneNumber": digits,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": appid},
                },
            }
        )

    def mint(
        request: Request, field: str, make: Callable[[str], str], shape: re.Pattern[str]
    ) -> HTTPResponse:
        """A code for the body's `field`, made by `make`; it expires after ``code_ttl``."""
        data = body_json(request) or {}
        code = make(str(data.get(field) or ""))
        if shape.fullmatch(code) is None:
            return _error(40097, f"invalid args: {field}")
        minted[code] = time.monotonic()
        return json({"code": code, "expires_in": code_ttl})

    @bp.post("/_mint/login_code")
    async def mint_login_code(request: Request) -> HTTPResponse:
        """What wx.login gives the phone (not a WeChat API): `{"user"}` → a code that expires."""
        return mint(request, "user", standin_login_code, LOGIN_CODE_RE)

    @bp.post("/_mint/phone_code")
    async def mint_phone_code(request: Request) -> HTTPResponse:
        """What the getPhoneNumber button gives (not a WeChat API): `{"phone"}` → a code."""
        return mint(request, "phone", standin_phone_code, PHONE_CODE_RE)

    @bp.get("/_stats")
    async def standin_stats(request: Request) -> HTTPResponse:
        """Debug counters of this stand-in (not a WeChat API)."""
        return json({**stats, "tokens_live": len(tokens), "stable_live": len(stable)})

    return bp


def main(argv: list[str] | None = None) -> None:
    """Serve the stand-in on its own: `python -m integrations.wechat.standin --port N`."""
    from config.settings import get_settings

    settings = get_settings()
    parser = command_line("WeChat API development stand-in", 8801)
    parser.add_argument("--appid", default=settings.wechat_appid)
    parser.add_argument("--secret", default=settings.wechat_secret)
    parser.add_argument(
        "--page", action="append", help="a published page (repeatable; default: the settings')"
    )
    parser.add_argument("--token-expires-in", type=int, default=TOKEN_EXPIRES_IN)
    parser.add_argument("--old-token-grace", type=int, default=OLD_TOKEN_GRACE)
    parser.add_argument("--code-ttl", type=int, default=CODE_TTL)
    parser.add_argument("--qr-per-minute", type=int, default=QR_PER_MINUTE)
    args = parser.parse_args(argv)
    standin = wechat_standin_blueprint(
        url_prefix="",
        appid=args.appid,
        secret=args.secret,
        pages=tuple(args.page or [settings.wechat_miniapp_page]),
        token_expires_in=args.token_expires_in,
        old_token_grace=args.old_token_grace,
        code_ttl=args.code_ttl,
        qr_per_minute=args.qr_per_minute,
    )
    serve(bare_app("wechat-standin", standin), args)


if __name__ == "__main__":
    main()
