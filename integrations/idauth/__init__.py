"""Provincial identity platform (OAuth2 authorization code + PKCE) and its development stand-in."""

from integrations.idauth.client import IdAuthClient, IdAuthError, Identity, verify_state

__all__ = ["IdAuthClient", "IdAuthError", "Identity", "verify_state"]
