"""WeChat mini-program API through wechatpy: login, shared access token, QR codes, phone numbers.

wechatpy is synchronous, so every public method of `WeChatService` runs it in a worker thread.
Every URL is built on `settings.effective_wechat_api_base` (the real API or the dev stand-in), and
the access token lives once in Redis, shared by every process and worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import requests
from redis.exceptions import RedisError
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.crypto import WeChatWxaCrypto
from wechatpy.exceptions import WeChatClientException, WeChatException
from wechatpy.session.redisstorage import RedisStorage

from config.settings import Settings
from realname import error_codes as E
from realname.errors import AppError

logger = logging.getLogger(__name__)

T = TypeVar("T")

WECHAT_ORIGIN = "https://api.weixin.qq.com"
# 40001 invalid credential, 40014 invalid access token, 42001 access token expired.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# 40029 invalid code, 40163 code already used.
INVALID_CODE_ERRCODES = frozenset({40029, 40163})
RATE_LIMITED_ERRCODE = 45011
BUSY_ERRCODE = -1
HIGH_RISK_ERRCODE = 40226  # jscode2session: WeChat blocks a high-risk user's login
QR_MINUTE_LIMIT_ERRCODE = 45009  # getwxacodeunlimit: per-minute quota (5000/min) reached
PAGE_INVALID_ERRCODE = 41030  # getwxacodeunlimit: page missing or the mini-program unpublished
# Cache the token a little shorter than WeChat keeps it, so nobody uses one at its last second.
TOKEN_TTL_MARGIN = 300

MSG_INVALID_LOGIN_CODE = "微信登录凭证无效或已使用，请重新进入小程序"
MSG_INVALID_PHONE_CODE = "手机号授权凭证无效或已使用，请重新授权"
MSG_RATE_LIMITED = "微信接口调用过于频繁，请稍后再试"
MSG_UNAVAILABLE = "微信服务暂时不可用，请稍后再试"
MSG_DECRYPT_FAILED = "微信数据解密失败，请重新授权"
MSG_SCENE_INVALID = "小程序码参数无效（场景值最长 32 个字符）"
MSG_HIGH_RISK = (
    "您的微信账号被微信判定存在安全风险，暂时无法登录小程序。"
    "请在微信中完成安全验证或稍后再试；如有疑问请联系微信客服"
)
MSG_QR_MINUTE_LIMIT = "登录二维码生成过于频繁（已达微信每分钟限额），请一分钟后刷新二维码"
MSG_PAGE_INVALID = (
    "扫码登录暂不可用：小程序页面不存在或小程序尚未发布。"
    "请联系平台运维检查 WECHAT_MINIAPP_PAGE 设置和小程序发布状态"
)


class WeChatError(AppError):
    """A failed WeChat call: a stable `code`, WeChat's own `errcode` (None if unreachable)."""

    status = 502
    code = "wechat_error"
    message = "微信接口调用失败，请稍后再试"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        errcode: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.errcode = errcode


def _map_error(exc: Exception, invalid_code_message: str) -> WeChatError:
    """Translate a wechatpy/requests/redis failure into our `WeChatError`."""
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        errcode = int(exc.errcode)
        logger.warning("wechat errcode %s: %s", errcode, exc.errmsg)
        if errcode in INVALID_CODE_ERRCODES:
            return WeChatError(
                invalid_code_message, code=E.WECHAT_INVALID_CODE.code, status=400, errcode=errcode
            )
        if errcode == RATE_LIMITED_ERRCODE:
            return WeChatError(
                MSG_RATE_LIMITED, code=E.WECHAT_RATE_LIMITED.code, status=429, errcode=errcode
            )
        if errcode == BUSY_ERRCODE:
            return WeChatError(
                MSG_UNAVAILABLE, code=E.WECHAT_UNAVAILABLE.code, status=503, errcode=errcode
            )
        if errcode == 40169:
            return WeChatError(MSG_SCENE_INVALID, errcode=errcode)
        if errcode == HIGH_RISK_ERRCODE:
            return WeChatError(
                MSG_HIGH_RISK, code=E.WECHAT_USER_BLOCKED.code, status=403, errcode=errcode
            )
        if errcode == QR_MINUTE_LIMIT_ERRCODE:
            error = WeChatError(
                MSG_QR_MINUTE_LIMIT, code=E.WECHAT_RATE_LIMITED.code, status=429, errcode=errcode
            )
            error.extra = {"retry_after": 60}
            return error
        if errcode == PAGE_INVALID_ERRCODE:
            # An operator's problem, not the user's: say so loudly in the log.
            logger.error(
                "wechat 41030: WECHAT_MINIAPP_PAGE is not a published page of the mini-program"
            )
            return WeChatError(
                MSG_PAGE_INVALID, code=E.WECHAT_PAGE_INVALID.code, status=503, errcode=errcode
            )
        return WeChatError(f"微信接口调用失败（错误码 {errcode}）", errcode=errcode)
    # No errcode: WeChat (or Redis, which holds the token) could not be reached or answered badly.
    logger.warning("wechat unavailable: %r", exc)
    return WeChatError(MSG_UNAVAILABLE, code=E.WECHAT_UNAVAILABLE.code, status=503)


class _TokenStorage(RedisStorage):
    """wechatpy's Redis storage, keeping the token a safety margin shorter than WeChat does."""

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store `value`, shortening a given TTL by `TOKEN_TTL_MARGIN` (never below 60 s)."""
        if ttl:
            ttl = max(int(ttl) - TOKEN_TTL_MARGIN, 60)
        super().set(key, value, ttl)


class _Wxa(WeChatWxa):
    """WeChatWxa with the calls wechatpy 1.8 lacks or does not shape the way we need."""

    def code_to_session(self, js_code: str) -> dict[str, Any]:
        """jscode2session, authenticated by appid + secret only."""
        # A list of pairs, not a dict: wechatpy attaches an access token to dict params, and
        # jscode2session needs none (logins must not depend on, or leak, the token).
        params = [
            ("appid", self.appid),
            ("secret", self.secret),
            ("js_code", js_code),
            ("grant_type", "authorization_code"),
        ]
        return self._get("sns/jscode2session", params=params)

    def get_unlimited_code(
        self, scene: str, page: str | None, width: int, check_path: bool, env_version: str
    ) -> Any:
        """getwxacodeunlimit with `check_path`/`env_version`; returns the HTTP response or JSON."""
        data: dict[str, Any] = {
            "scene": scene,
            "width": width,
            "check_path": check_path,
            "env_version": env_version,
        }
        if page:
            data["page"] = page
        return self._post("wxa/getwxacodeunlimit", data=data)

    def get_user_phone_number(self, code: str) -> dict[str, Any]:
        """Exchange a getPhoneNumber button code for the user's phone number."""
        return self._post("wxa/business/getuserphonenumber", data={"code": code})


class _ApiClient(WeChatClient):
    """wechatpy's client with every URL under our API base and a Redis-shared access token."""

    wxa = _Wxa()

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        api_base: str,
        storage: _TokenStorage,
        redis_client: redis.Redis,
        timeout: float,
        stable_token: bool = True,
    ) -> None:
        super().__init__(appid, secret, session=storage, timeout=timeout, auto_retry=False)
        self.api_base = api_base
        self.stable_token = stable_token
        self.redis_client = redis_client
        self.lock_timeout = 2 * timeout + 5
        self.API_BASE_URL = f"{api_base}/cgi-bin/"
        # Per-API base URLs (wxa and others) point at api.weixin.qq.com; move them with us.
        # vars(), not inspect.getmembers(): the latter would evaluate `access_token`.
        for api in vars(self).values():
            own = getattr(api, "API_BASE_URL", "") if isinstance(api, BaseWeChatAPI) else ""
            if own.startswith(WECHAT_ORIGIN):
                api.API_BASE_URL = api_base + own[len(WECHAT_ORIGIN) :]

    @property
    def lock_key(self) -> str:
        """The Redis lock serialising token refreshes across processes."""
        return f"{self.session.prefix}:{self.access_token_key}:lock"

    @property
    def access_token(self) -> str:
        """The shared token from Redis, fetched (once, under a lock) when there is none."""
        return self.session.get(self.access_token_key) or self.refresh_access_token(stale=None)

    def fetch_access_token(self, force_refresh: bool = False) -> dict[str, Any]:
        """Fetch a token (stable_token, or the classic cgi-bin/token) and store it in Redis."""
        if not self.stable_token:
            return self._fetch_access_token(
                url=f"{self.api_base}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
        # stable_token: POST JSON; it does not replace the token other systems sharing this
        # AppID hold (cgi-bin/token would make theirs expire within 5 minutes).
        res = self._http.post(
            f"{self.api_base}/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
                "force_refresh": force_refresh,
            },
            timeout=self.timeout,
        )
        res.raise_for_status()
        result = res.json()
        if not isinstance(result, dict) or result.get("errcode", 0) != 0:
            errcode = result.get("errcode") if isinstance(result, dict) else None
            errmsg = result.get("errmsg") if isinstance(result, dict) else None
            raise WeChatClientException(
                errcode, errmsg, client=self, request=res.request, response=res
            )
        self.session.set(
            self.access_token_key, result["access_token"], result.get("expires_in", 7200)
        )
        return result

    def refresh_access_token(self, stale: str | None) -> str:
        """Fetch a new token unless another process has already replaced `stale`."""
        with self.redis_client.lock(
            self.lock_key, timeout=self.lock_timeout, blocking_timeout=self.lock_timeout
        ):
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            fetched = self.fetch_access_token()
            if stale and self.stable_token and fetched.get("access_token") == stale:
                # WeChat still hands out the token it just refused: force a new one (limited to
                # 20 a day by WeChat, so only here).
                self.fetch_access_token(force_refresh=True)
            return self.session.get(self.access_token_key)


class WeChatService:
    """Async facade over wechatpy for the mini-program; share one per process."""

    def __init__(
        self,
        settings: Settings,
        redis_client: redis.Redis | str,
        *,
        prefix: str = "wechat",
        timeout: float = 10.0,
    ) -> None:
        """Build the client; `redis_client` is a *sync* `redis.Redis` or a Redis URL."""
        self._owns_redis = isinstance(redis_client, str)
        if isinstance(redis_client, str):
            redis_client = redis.Redis.from_url(redis_client)
        self._redis = redis_client
        self.appid = settings.wechat_appid
        self._client = _ApiClient(
            appid=settings.wechat_appid,
            secret=settings.wechat_secret,
            api_base=settings.effective_wechat_api_base.rstrip("/"),
            storage=_TokenStorage(self._redis, prefix=prefix),
            redis_client=self._redis,
            timeout=timeout,
            stable_token=settings.wechat_stable_token,
        )

    async def close(self) -> None:
        """Release the HTTP session (and the Redis client when built from a URL)."""
        self._client._http.close()
        if self._owns_redis:
            self._redis.close()

    async def code_to_session(self, js_code: str) -> dict[str, Any]:
        """Exchange a wx.login code for `{"openid", "unionid" | None, "session_key"}`.

        The session_key is a secret shared with WeChat: keep it server-side (for `decrypt`) and
        never return it to API callers.
        """
        data = await self._call(
            self._client.wxa.code_to_session,
            js_code,
            token=False,
            invalid_code_message=MSG_INVALID_LOGIN_CODE,
        )
        if not isinstance(data, dict) or not data.get("openid") or not data.get("session_key"):
            raise WeChatError(MSG_UNAVAILABLE, code=E.WECHAT_UNAVAILABLE.code, status=503)
        return {
            "openid": data["openid"],
            "unionid": data.get("unionid") or None,
            "session_key": data["session_key"],
        }

    async def get_unlimited_qr(
        self,
        scene: str,
        page: str | None = None,
        *,
        width: int = 430,
        check_path: bool = True,
        env_version: str = "release",
    ) -> bytes:
        """PNG bytes of an unlimited mini-program code carrying `scene` (at most 32 chars)."""
        res = await self._call(
            self._client.wxa.get_unlimited_code, scene, page, width, check_path, env_version
        )
        # wechatpy returns the raw response when the body is not JSON, i.e. the image itself.
        content = getattr(res, "content", None)
        if not isinstance(content, bytes) or not content:
            raise WeChatError(MSG_UNAVAILABLE, code=E.WECHAT_UNAVAILABLE.code, status=503)
        return content

    async def get_phone_number(self, code: str) -> str:
        """The phone number (without country code) behind a getPhoneNumber button code."""
        data = await self._call(
            self._client.wxa.get_user_phone_number,
            code,
            invalid_code_message=MSG_INVALID_PHONE_CODE,
        )
        try:
            return str(data["phone_info"]["purePhoneNumber"])
        except (KeyError, TypeError) as exc:
            raise WeChatError(MSG_UNAVAILABLE, code=E.WECHAT_UNAVAILABLE.code, status=503) from exc

    async def decrypt(self, session_key: str, encrypted_data: str, iv: str) -> dict[str, Any]:
        """Decrypt wx encryptedData with the user's session_key; checks the watermark appid."""
        return await asyncio.to_thread(self._decrypt, session_key, encrypted_data, iv)

    def _decrypt(self, session_key: str, encrypted_data: str, iv: str) -> dict[str, Any]:
        try:
            return WeChatWxaCrypto(session_key, iv, self.appid).decrypt_message(encrypted_data)
        except (ValueError, KeyError, TypeError, IndexError, WeChatException) as exc:
            raise WeChatError(
                MSG_DECRYPT_FAILED, code=E.WECHAT_DECRYPT_FAILED.code, status=400
            ) from exc

    async def _call(
        self,
        fn: Callable[..., T],
        *args: Any,
        token: bool = True,
        invalid_code_message: str = MSG_INVALID_LOGIN_CODE,
    ) -> T:
        return await asyncio.to_thread(self._call_sync, fn, args, token, invalid_code_message)

    def _call_sync(
        self, fn: Callable[..., T], args: tuple[Any, ...], token: bool, invalid_code_message: str
    ) -> T:
        try:
            if not token:
                return fn(*args)
            current = self._client.access_token
            try:
                return fn(*args)
            except WeChatClientException as exc:
                if exc.errcode is None or int(exc.errcode) not in TOKEN_ERRCODES:
                    raise
                # The shared token was revoked or expired early: refresh once, retry once.
                logger.info("wechat access token rejected (%s), refreshing", exc.errcode)
                self._client.refresh_access_token(stale=current)
                return fn(*args)
        except (WeChatClientException, requests.RequestException, RedisError) as exc:
            raise _map_error(exc, invalid_code_message) from exc
