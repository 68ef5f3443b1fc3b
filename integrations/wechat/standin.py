"""Development stand-in for the WeChat server API: same paths, parameters and JSON error shapes.

Deterministic and offline: a login code `dev-<anything>` always maps to the same openid, a phone
code `phone-<digits>` to that number, and mini-program codes are small real PNG images carrying
their scene in a tEXt chunk. Access tokens are remembered in this process only (one worker).

Run standalone with `python -m integrations.wechat.standin --port 8801`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import struct
import time
import zlib
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json, raw

DEFAULT_APPID = "wx-dev-appid"
DEFAULT_SECRET = "wx-dev-secret"
TOKEN_EXPIRES_IN = 7200
MAX_SCENE_LENGTH = 32


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
) -> Blueprint:
    """A Blueprint answering WeChat's token, jscode2session, QR code and phone-number APIs."""
    bp = Blueprint(name, url_prefix=url_prefix or None)
    tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
    stats = {"tokens_issued": 0}

    def token_error(request: Request) -> HTTPResponse | None:
        token = request.args.get("access_token", "")
        expires = tokens.get(token)
        if expires is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if expires < time.monotonic():
            return _error(42001, "access_token expired")
        return None

    def body_json(request: Request) -> dict[str, Any] | None:
        try:
            data = request.json
        except Exception:  # Sanic raises BadRequest on malformed JSON
            return None
        return data if isinstance(data, dict) else None

    @bp.get("/cgi-bin/token")
    async def token(request: Request) -> HTTPResponse:
        """Issue an access token for appid + secret (client_credential grant)."""
        args = request.args
        if args.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if args.get("appid") != appid:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(args.get("secret", ""), secret):
            return _error(40125, "invalid appsecret")
        now = time.monotonic()
        for stale in [t for t, exp in tokens.items() if exp < now]:
            del tokens[stale]
        access_token = "standin-" + secrets.token_urlsafe(32)
        tokens[access_token] = now + TOKEN_EXPIRES_IN
        stats["tokens_issued"] += 1
        return json({"access_token": access_token, "expires_in": TOKEN_EXPIRES_IN})

    @bp.get("/sns/jscode2session")
    async def jscode2session(request: Request) -> HTTPResponse:
        """Map `dev-<x>` login codes to a stable openid and session_key."""
        args = request.args
        if args.get("appid") != appid:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(args.get("secret", ""), secret):
            return _error(40125, "invalid appsecret")
        if args.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        js_code = args.get("js_code", "")
        if not js_code.startswith("dev-") or len(js_code) <= 4:
            return _error(40029, "invalid code")
        suffix = js_code[4:]
        return json({"openid": standin_openid(suffix), "session_key": standin_session_key(suffix)})

    @bp.post("/wxa/getwxacodeunlimit")
    async def getwxacodeunlimit(request: Request) -> HTTPResponse:
        """Return a PNG mini-program code whose tEXt chunks carry scene and page."""
        if (failure := token_error(request)) is not None:
            return failure
        data = body_json(request)
        if data is None:
            return _error(47001, "data format error")
        scene = str(data.get("scene") or "")
        if not scene or len(scene) > MAX_SCENE_LENGTH:
            return _error(40169, "invalid length for scene, or the data is not json string")
        page = str(data.get("page") or "")
        png = make_png({"scene": scene, "page": page}, seed=f"{page}?{scene}")
        return raw(png, content_type="image/png")

    @bp.post("/wxa/business/getuserphonenumber")
    async def getuserphonenumber(request: Request) -> HTTPResponse:
        """Map a `phone-<digits>` button code to that phone number."""
        if (failure := token_error(request)) is not None:
            return failure
        data = body_json(request)
        if data is None:
            return _error(47001, "data format error")
        code = str(data.get("code") or "")
        digits = code[len("phone-") :]
        if not code.startswith("phone-") or not digits.isdigit():
            return _error(40029, "invalid code")
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

    @bp.get("/_stats")
    async def standin_stats(request: Request) -> HTTPResponse:
        """Debug counters of this stand-in (not a WeChat API)."""
        return json({**stats, "tokens_live": len(tokens)})

    return bp


def make_standin_app(name: str = "wechat-standin", **kw: Any) -> Sanic:
    """A tiny Sanic app serving the stand-in at the root, as api.weixin.qq.com would."""
    app = Sanic(name)
    app.config.AUTO_EXTEND = False  # a bare server: no OpenAPI or other sanic-ext extras
    app.blueprint(wechat_standin_blueprint(url_prefix="", **kw))
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the stand-in on its own: `python -m integrations.wechat.standin --port N`."""
    from config.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description="WeChat API development stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--appid", default=settings.wechat_appid)
    parser.add_argument("--secret", default=settings.wechat_secret)
    args = parser.parse_args(argv)
    app = make_standin_app(appid=args.appid, secret=args.secret)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
