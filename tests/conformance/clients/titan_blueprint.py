"""Run inside Titan Core's own virtualenv (scripts/conformance-env.sh titan): plan, apply and plan again a
blueprint of the kinds Titan and spcs-iac share, against the emulator given by host and port.
Prints the plans; exits non-zero when the second plan is not empty."""

from __future__ import annotations

import os
import sys

import snowflake.connector
from titan import Blueprint
from titan.resources import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    Grant,
    ImageRepository,
    InternalStage,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Warehouse,
)


def resources() -> list:
    role = Role(name="TITAN_ROLE", comment="titan conformance")
    db = Database(name="TITAN_DB", comment="titan conformance")
    schema = Schema(name="TITAN_SCHEMA", database=db, comment="titan conformance")
    rule = NetworkRule(name="TITAN_RULE", database=db, schema=schema, type="HOST_PORT", mode="EGRESS",
                       value_list=["example.com:443"])
    return [
        role,
        RoleGrant(role=role, to_role="SYSADMIN"),
        Warehouse(name="TITAN_WH", warehouse_size="XSMALL", auto_suspend=60, initially_suspended=True),
        db,
        schema,
        InternalStage(name="TITAN_STAGE", database=db, schema=schema, directory={"enable": True}),
        rule,
        ExternalAccessIntegration(name="TITAN_EAI", allowed_network_rules=[rule], enabled=True),
        ComputePool(name="TITAN_POOL", min_nodes=1, max_nodes=1, instance_family="CPU_X64_XS",
                    initially_suspended=True, auto_suspend_secs=300),
        ImageRepository(name="TITAN_REPO", database=db, schema=schema),
        Grant(priv="USAGE", on=db, to=role),
        Grant(priv="CREATE SCHEMA", on=db, to=role),
        Grant(priv="USAGE", on_warehouse="TITAN_WH", to=role),
        Grant(priv="CREATE DATABASE", on="ACCOUNT", to=role),
    ]


def main() -> int:
    conn = snowflake.connector.connect(account="emu", user="admin", password="x", host="127.0.0.1",
                                       port=int(sys.argv[1]), protocol="http", role="ACCOUNTADMIN",
                                       login_timeout=10)
    # The account's setup: Titan creates compute pools as SYSADMIN, which a new account does not allow.
    conn.cursor().execute("GRANT CREATE COMPUTE POOL ON ACCOUNT TO ROLE SYSADMIN")
    first = Blueprint(resources=resources()).plan(conn)
    print(f"first plan: {len(first)} changes")
    for change in first:
        print("  ", change)
    Blueprint(resources=resources()).apply(conn, first)
    again = Blueprint(resources=resources()).plan(conn)
    print(f"second plan: {len(again)} changes")
    for change in again:
        print("  ", change)
    conn.close()
    return 0 if len(first) > 0 and len(again) == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
