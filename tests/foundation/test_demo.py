"""The demo seed: realistic, idempotent, and no plaintext personal data in the database file."""

import json
import sqlite3
import subprocess
import sys
from typing import Any

from config.settings import Settings
from services.pii import PiiCipher
from tests.servers import ROOT, realname_ok


def _probe(env: dict[str, str]) -> dict[str, Any]:
    """What the seeded database holds and its users' screens list (tests/foundation/demo_probe)."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.foundation.demo_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _screens_have_something(seen: dict[str, Any]) -> None:
    """Each kind of demo activity exists, the regulators have requests to review and decided
    ones, a worker has announcements; the walked project (tests/web) leaves its labour officer's
    and chief supervisor's queues and the regulators' pending queues of its region empty."""
    empty = [kind for kind, n in seen["counts"].items() if n == 0]
    assert not empty, f"the demo creates none of: {empty}"
    queues = seen["queues"]
    assert queues["630000"]["pending"] >= 1  # 青海省住房和城乡建设厅: QH-DEMO-004
    assert queues["630200"]["pending"] >= 1  # 海东市: QH-DEMO-002
    assert queues["632500"]["pending"] >= 1  # after 贵德县's first review of QH-DEMO-003
    assert queues["630102"] == {"pending": 0, "done": 1}  # approved, then rejected by the city
    assert queues["630100"] == {"pending": 0, "done": 1}
    # every regulator with a queue to review can sign in to it from the SSO stand-in's page
    from integrations.idauth.standin import DEMO_REGULATORS

    offered = {d["region_code"] for d in DEMO_REGULATORS}
    reviewing = {region for region, q in queues.items() if q["pending"] or q["done"]}
    assert reviewing <= offered, reviewing - offered
    assert not seen["walked_open_status_change"]
    assert seen["leavers"] >= 2 and seen["attended_after_leaving"] == 0
    assert seen["worker_announcements"] >= 3  # the province's, Xining's and Chengdong's
    assert seen["walked_approvals"] == {
        "labour_officer": 0,
        "project_manager": 1,
        "chief_supervisor": 0,
    }
    assert seen["pm_todos"]["supplement_approvals"] == 1
    assert seen["walked_binding_requests"] >= 1


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
    once = _probe(env)
    again = realname_ok(env, "seed-demo")  # idempotent
    assert '"seeded": "already"' in again
    twice = _probe(env)
    assert twice["counts"] == once["counts"], "a second seed stored some demo activity twice"
    assert json.loads(again)["activity"] == json.loads(first)["activity"]
    _screens_have_something(once)

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
