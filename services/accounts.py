"""Accounts for enterprises, regulators and operators (WeChat accounts live with sign-in)."""

from __future__ import annotations

from models import Account, AccountKind, Enterprise, Region
from realname import error_codes as E
from realname.errors import NotFound
from services import pii
from services.regions import ensure_regions


async def enterprise_account(credit_code: str) -> Account:
    """The enterprise-admin account of a company (created on first use)."""
    code = pii.validate_credit_code(credit_code)
    enterprise = await Enterprise.get_or_none(credit_code=code)
    if enterprise is None:
        raise NotFound(code=E.ENTERPRISE_NOT_FOUND.code)
    account, _ = await Account.get_or_create(
        kind=AccountKind.ENTERPRISE,
        enterprise=enterprise,
        defaults={"display_name": enterprise.name},
    )
    return account


async def regulator_account(region_code: str) -> Account:
    """The administrator account of a county, city or province."""
    await ensure_regions()
    region = await Region.get_or_none(code=region_code)
    if region is None:
        raise NotFound(code=E.REGION_NOT_FOUND.code, field="region_code")
    # the oldest when there are two (accounts made before sign-in found this one, or a race of
    # two first sign-ins): the region's department must still sign in, not fail on the lookup
    account = await Account.filter(kind=AccountKind.REGULATOR, region=region).order_by("id").first()
    if account is None:
        account = await Account.create(
            kind=AccountKind.REGULATOR, region=region, display_name=f"{region.name}主管部门"
        )
    return account


async def operator_account(name: str) -> Account:
    """A platform operator account."""
    account, _ = await Account.get_or_create(
        kind=AccountKind.OPERATOR, display_name=name, defaults={}
    )
    return account
