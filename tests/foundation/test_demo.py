"""The demo seed: realistic, idempotent, and no plaintext personal data in the database file."""

import sqlite3

from config.settings import Settings
from services.pii import PiiCipher
from tests.servers import realname_ok


def test_demo_seed_has_no_plaintext_personal_data(tmp_path):
    db = tmp_path / "demo.sqlite3"
    env = {
        "ENV": "development",
        "DATABASE_URL": f"sqlite://{db}",
        "PATH": "/usr/bin:/bin",
        "EMBEDDED_REDIS_DIR": str(tmp_path / "redis"),
        "STORAGE_URL": f"file://{tmp_path}/f",
    }
    realname_ok(env, "migrate")
    first = realname_ok(env, "seed-demo")
    assert "QH-DEMO-001" in first
    again = realname_ok(env, "seed-demo")  # idempotent
    assert '"seeded": "already"' in again

    conn = sqlite3.connect(db)
    try:
        persons = conn.execute("SELECT id_number_enc, phone_enc FROM person").fetchall()
        punches = conn.execute("SELECT status, reason FROM punch").fetchall()
        days = conn.execute("SELECT state FROM daily_attendance").fetchall()
        members = conn.execute("SELECT COUNT(*) FROM project_member").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    assert len(persons) >= 300 and members >= 300
    reasons = {r for s, r in punches if s == "rejected"}
    assert {"no_liveness", "contract_red"} <= reasons
    states = {s for (s,) in days}
    assert {"normal", "abnormal"} <= states

    cipher = PiiCipher.from_settings(Settings(env="development"))
    secrets = set()
    for id_enc, phone_enc in persons:
        secrets.add(cipher.decrypt(id_enc))
        secrets.add(cipher.decrypt(phone_enc))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("demo.sqlite3*"))
    leaked = [s for s in secrets if s.encode() in raw]
    assert not leaked, f"{len(leaked)} plaintext values found in the database file"
