"""One stack for every tool bench_peers.py compares, as plain data (standard library only: Titan Core's
runner imports it in Titan's own virtualenv). Each tool's side turns the same records into its objects.

Blocks of ten objects of the kinds the tools share: a schema, two stages, a generic secret, a network rule,
a role granted to SYSADMIN, a warehouse, and USAGE on the schema and on the warehouse granted to the role;
one database holds 25 blocks.
"""

from __future__ import annotations

from typing import Any

BLOCKS_PER_DATABASE = 25


def objects(n: int) -> list[dict[str, Any]]:
    """At least ``n`` objects (whole blocks), in an order where everything follows what it refers to."""
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n:
        db = f"PEER_DB_{i // BLOCKS_PER_DATABASE}"
        if i % BLOCKS_PER_DATABASE == 0:
            out.append({"kind": "database", "name": db})
        schema = f"S_{i}"
        role = f"PEER_ROLE_{i}"
        warehouse = f"PEER_WH_{i}"
        out += [
            {"kind": "schema", "name": schema, "database": db},
            *({"kind": "stage", "name": f"STAGE_{j}", "database": db, "schema": schema, "directory": j == 0}
              for j in range(2)),
            {"kind": "secret", "name": "API_KEY", "database": db, "schema": schema, "value": f"token-{i}"},
            {"kind": "network_rule", "name": "EGRESS", "database": db, "schema": schema,
             "value_list": [f"api{i}.example.com:443"]},
            {"kind": "role", "name": role},
            {"kind": "role_grant", "role": role, "to_role": "SYSADMIN"},
            {"kind": "warehouse", "name": warehouse, "auto_suspend": 60},
            {"kind": "grant", "privilege": "USAGE", "on": "schema", "database": db, "schema": schema, "to": role},
            {"kind": "grant", "privilege": "USAGE", "on": "warehouse", "warehouse": warehouse, "to": role},
        ]
        i += 1
    return out
