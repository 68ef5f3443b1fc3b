"""Settings: defaults, validation, refusal of development secrets outside development."""

import base64
import os
import subprocess
import sys

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


def test_two_assignments_on_one_env_line_are_named(tmp_path, monkeypatch):
    """A .env file with two variables on one line (as a settings block is easily copied) read
    WECHAT_APPID as "wx1  WECHAT_SECRET=…  WECHAT_API_BASE=…", and the refusal then blamed the
    missing WECHAT_API_BASE. The setting whose value took the rest of the line is named."""
    for name in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE", "S3_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text(
        "WECHAT_APPID=wx1234567890  WECHAT_SECRET=s3cr3t  WECHAT_API_BASE=https://api.weixin.qq.com\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=env)
    assert [e["loc"] for e in err.value.errors()] == [("wechat_appid",)]
    assert "one VARIABLE=value per line" in str(err.value)
    env.write_text("S3_ACCESS_KEY=AKIA123# the store's key\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="s3_access_key\n  Value error, contains whitespace"):
        Settings(_env_file=env)
    env.write_text("S3_ACCESS_KEY=AKIA123   # the store's key\n", encoding="utf-8")
    assert Settings(_env_file=env).s3_access_key == "AKIA123"


def test_the_cli_names_wrong_settings_without_their_values(tmp_path):
    """``realname <command>`` with a wrong setting: exit 2 and one line per wrong setting, no
    traceback (the commands' modules read the settings as they are imported, before main's
    check ran) and no value: pydantic's own text repeats each input, such as a PII key."""
    key = base64.urlsafe_b64encode(b"0123456789abcdef").decode()  # 16 bytes: too short
    (tmp_path / ".env").write_text(
        f"ENV=production\nPII_KEYS=k1:{key}\n"
        "WECHAT_APPID=wx1234567890  WECHAT_SECRET=s3cr3t  WECHAT_API_BASE=https://x.example\n",
        encoding="utf-8",
    )
    names = ("ENV", "PII_KEYS", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE")
    env = {k: v for k, v in os.environ.items() if k not in names}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'never-used.sqlite3'}"
    out = subprocess.run(
        [sys.executable, "-m", "realname.cli", "migrate"],
        cwd=tmp_path,  # where the .env file is read from
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "PII_KEYS: PII_KEYS key 'k1' must be 32 bytes (AES-256), got 16" in out.stderr
    assert "WECHAT_APPID: contains whitespace" in out.stderr
    assert key not in out.stderr and "s3cr3t" not in out.stderr
