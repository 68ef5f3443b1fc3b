"""Settings: defaults, validation, refusal of development secrets outside development."""

import base64

import pytest
from pydantic import ValidationError

from config.settings import DEV_PII_KEY, Settings


def strong(**kw):
    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    values = dict(
        env="production",
        secret_key="s" * 40,
        pii_keys=f"k1:{key}",
        blind_index_key="b" * 40,
        dev_standins=False,
        wechat_api_base="https://api.weixin.qq.com",
        idauth_base_url="https://sso.example",
    )
    values.update(kw)
    return Settings(**values)


def test_embedded_defaults(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(env="development", _env_file=None)
    assert s.database_url.startswith("sqlite://")
    assert s.redis_url == ""
    assert s.storage_url.startswith("file://")
    assert s.surface_set == {"admin", "miniapp", "device"}
    assert s.standins_enabled


def test_production_refuses_default_secrets():
    with pytest.raises(ValidationError) as err:
        Settings(env="production")
    text = str(err.value)
    for name in ("SECRET_KEY", "PII_KEYS", "BLIND_INDEX_KEY", "DEV_STANDINS"):
        assert name in text


def test_production_with_real_secrets_is_accepted():
    s = strong()
    assert not s.standins_enabled
    assert s.pii_keys != DEV_PII_KEY


def test_standins_never_enabled_in_production():
    s = strong()
    assert s.dev_standins is False and s.standins_enabled is False


@pytest.mark.parametrize("value", ["nocolon", "k1:" + base64.b64encode(b"short").decode()])
def test_bad_pii_keys_rejected(value):
    with pytest.raises(ValidationError):
        Settings(pii_keys=value)


def test_surfaces_validated():
    assert Settings(surfaces="device").surface_set == {"device"}
    with pytest.raises(ValidationError):
        Settings(surfaces="device,bogus")
