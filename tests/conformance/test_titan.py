"""Titan Core (``titan-core`` from PyPI), unchanged, against the emulator: a blueprint of roles, role
grants, privilege grants, a warehouse, database, schema, stage, network rule, external access
integration, compute pool and image repository is planned, applied and planned again with no change
(tests/conformance/clients/titan_blueprint.py runs inside Titan's virtualenv)."""

from __future__ import annotations

from typing import Any

from tests.conformance.conftest import ROOT, run

CLIENT = ROOT / "tests" / "conformance" / "clients" / "titan_blueprint.py"


def test_titan_plans_applies_and_converges(client_env: Any, emulator: Any) -> None:
    python = str(client_env("titan") / "python")
    r = run([python, str(CLIENT), str(emulator.port)], cwd=ROOT, timeout=300)
    output = r.stdout + r.stderr
    assert r.returncode == 0, output[-6000:]
    assert "first plan: 14 changes" in output and "second plan: 0 changes" in output
    made = {
        "SHOW ROLES LIKE 'TITAN_ROLE'": "TITAN_ROLE", "SHOW WAREHOUSES LIKE 'TITAN_WH'": "TITAN_WH",
        "SHOW SCHEMAS LIKE 'TITAN_SCHEMA' IN ACCOUNT": "TITAN_SCHEMA",
        "SHOW STAGES LIKE 'TITAN_STAGE' IN ACCOUNT": "TITAN_STAGE",
        "SHOW NETWORK RULES LIKE 'TITAN_RULE' IN ACCOUNT": "TITAN_RULE",
        "SHOW EXTERNAL ACCESS INTEGRATIONS LIKE 'TITAN_EAI'": "TITAN_EAI",
        "SHOW COMPUTE POOLS LIKE 'TITAN_POOL'": "TITAN_POOL",
        "SHOW IMAGE REPOSITORIES LIKE 'TITAN_REPO' IN ACCOUNT": "TITAN_REPO",
    }
    for sql, name in made.items():
        assert [row["name"] for row in emulator.rows(sql)] == [name], sql
    grants = {(g["privilege"], g["granted_on"], g["name"]) for g in emulator.rows("SHOW GRANTS TO ROLE TITAN_ROLE")}
    assert {("USAGE", "DATABASE", "TITAN_DB"), ("CREATE SCHEMA", "DATABASE", "TITAN_DB"),
            ("USAGE", "WAREHOUSE", "TITAN_WH"), ("CREATE DATABASE", "ACCOUNT", "EMU")} <= grants
    assert [r["grantee_name"] for r in emulator.rows("SHOW GRANTS OF ROLE TITAN_ROLE")] == ["SYSADMIN"]
