"""Provincial identity platform client: OAuth2 authorization code with PKCE (S256), via authlib.

The caller keeps `state` and `code_verifier` server-side between `authorization_url()` and the
callback (e.g. in Redis, keyed by state), checks the returned state with `verify_state`, then
calls `fetch_identity(code, code_verifier)`. Endpoints and claim names come from settings.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx2  # what authlib's httpx integration runs on (its fallback to httpx is deprecated)
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2 import OAuth2Client
from stdnum.cn import uscc

from config.settings import Settings
from realname import error_codes as E
from realname.errors import AppError

logger = logging.getLogger(__name__)

# Token-endpoint errors that mean "this code cannot be used", not "the platform is broken".
INVALID_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_request", "access_denied"})

MSG_INVALID_GRANT = "统一身份认证登录已失效，请重新登录"
MSG_BAD_CLAIMS = "统一身份认证平台返回的企业信息不完整或有误"


class IdAuthError(AppError, registered=E.SSO_UNAVAILABLE):
    """A failed SSO exchange, with a stable `code` and a Chinese message."""


@dataclass(frozen=True)
class Identity:
    """Who the provincial platform vouches for, mapped from its claims: an enterprise (its credit
    code) or a regulator's department (主管部门: ``region_code``, the region it administers)."""

    credit_code: str
    legal_person_name: str
    account_id: str
    raw_claims: dict[str, Any] = field(repr=False, compare=False)
    region_code: str = ""

    @property
    def is_regulator(self) -> bool:
        """A department of a regulator rather than an enterprise."""
        return bool(self.region_code)


def verify_state(expected: str | None, got: str | None) -> bool:
    """Constant-time check of the OAuth2 `state` echoed back by the platform."""
    if not expected or not got:
        return False
    return hmac.compare_digest(expected.encode(), got.encode())


class IdAuthClient:
    """OAuth2 client for the provincial identity platform; stateless, share one per process."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        """Read endpoints, credentials, redirect URL and claim names from `settings`."""
        base = settings.effective_idauth_base_url.rstrip("/")
        self.authorize_endpoint = base + settings.idauth_authorize_path
        self.token_endpoint = base + settings.idauth_token_path
        self.userinfo_endpoint = base + settings.idauth_userinfo_path
        self.redirect_uri = settings.effective_idauth_redirect_url
        self.client_id = settings.idauth_client_id
        self.client_secret = settings.idauth_client_secret
        self.scope = settings.idauth_scope
        self.claim_credit_code = settings.idauth_claim_credit_code
        self.claim_name = settings.idauth_claim_name
        self.claim_account = settings.idauth_claim_account
        self.claim_region = settings.idauth_claim_region
        self.timeout = timeout

    def authorization_url(self) -> tuple[str, str, str]:
        """A fresh `(url, state, code_verifier)`; store state + verifier until the callback."""
        # authlib's transport-free base client: building a URL needs no HTTP client.
        builder = OAuth2Client(
            None,
            client_id=self.client_id,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )
        code_verifier = generate_token(64)  # RFC 7636: 43..128 unreserved characters
        url, state = builder.create_authorization_url(
            self.authorize_endpoint, state=generate_token(32), code_verifier=code_verifier
        )
        return url, state, code_verifier

    async def fetch_identity(self, code: str, code_verifier: str) -> Identity:
        """Redeem the authorization code (with its PKCE verifier) and map the userinfo claims."""
        try:
            async with AsyncOAuth2Client(
                client_id=self.client_id,
                client_secret=self.client_secret,
                token_endpoint_auth_method="client_secret_basic",
                scope=self.scope,
                redirect_uri=self.redirect_uri,
                code_challenge_method="S256",
                timeout=self.timeout,
            ) as client:
                await client.fetch_token(
                    self.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
                resp = await client.get(self.userinfo_endpoint)
                resp.raise_for_status()
                claims = resp.json()
        except OAuthError as exc:
            logger.warning("sso token error %s: %s", exc.error, exc.description)
            if exc.error in INVALID_GRANT_ERRORS:
                raise IdAuthError(
                    MSG_INVALID_GRANT, code=E.SSO_INVALID_GRANT.code, status=400
                ) from exc
            raise IdAuthError() from exc
        except (httpx2.HTTPError, ValueError) as exc:
            # Unreachable, 5xx, or a reply that is not the JSON object OAuth2 promises.
            logger.warning("sso unavailable: %r", exc)
            raise IdAuthError() from exc
        return self.map_claims(claims)

    def map_claims(self, claims: Any) -> Identity:
        """Map userinfo claims through the configured claim names; validates the credit code."""
        if not isinstance(claims, dict):
            raise IdAuthError(MSG_BAD_CLAIMS, code=E.SSO_BAD_CLAIMS.code, status=502)
        name = str(claims.get(self.claim_name) or "").strip()
        account = str(claims.get(self.claim_account) or "").strip()
        region = str(claims.get(self.claim_region) or "").strip()
        if region:  # a regulator's department: its region instead of a credit code
            if not (name and account) or not (len(region) == 6 and region.isdigit()):
                logger.warning("sso regulator claims unusable, keys: %s", sorted(claims))
                raise IdAuthError(MSG_BAD_CLAIMS, code=E.SSO_BAD_CLAIMS.code, status=502)
            return Identity(
                credit_code="",
                legal_person_name=name,
                account_id=account,
                raw_claims=claims,
                region_code=region,
            )
        credit_code = uscc.compact(str(claims.get(self.claim_credit_code) or ""))
        if not (credit_code and name and account) or not uscc.is_valid(credit_code):
            logger.warning("sso claims unusable, keys: %s", sorted(claims))
            raise IdAuthError(MSG_BAD_CLAIMS, code=E.SSO_BAD_CLAIMS.code, status=502)
        return Identity(
            credit_code=credit_code, legal_person_name=name, account_id=account, raw_claims=claims
        )
