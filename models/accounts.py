"""Accounts: who can sign in (enterprise admin, post person / worker via WeChat, regulator)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref


class AccountKind(StrEnum):
    ENTERPRISE = "enterprise"  # enterprise admin (provincial SSO)
    PERSON = "person"  # a WeChat user: worker or post personnel, by their project memberships
    REGULATOR = "regulator"  # county / city / province administrator
    OPERATOR = "operator"  # platform operator (CLI)


class Account(Model):
    """A sign-in identity. Project-scoped roles are derived from memberships and units."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(AccountKind, max_length=16)
    display_name = fields.CharField(max_length=128, default="")
    enterprise = optional_ref("Enterprise", "accounts")
    enterprise_id: int | None
    person = optional_ref("Person", "accounts")
    person_id: int | None
    region = optional_ref("Region", "accounts")
    region_id: str | None
    external_id = fields.CharField(max_length=128, null=True, unique=True)  # SSO subject
    wechat_openid = fields.CharField(max_length=64, null=True, unique=True)
    wechat_unionid = fields.CharField(max_length=64, null=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"
