"""Titan Core's side of bench_peers.py, run inside Titan's own virtualenv (scripts/conformance-env.sh titan):
``python bench/peers_titan.py PARAMS_JSON OBJECTS plan|apply``. Builds the blueprint of bench/peer_stack.py,
then plans (connect + plan) or applies (connect + plan + apply), and prints one JSON line: wall and CPU
seconds of that work, the number of planned changes, and the error if Titan failed (never hidden)."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.peer_stack, standard library only

import snowflake.connector  # noqa: E402 - after the path
from titan import Blueprint  # noqa: E402
from titan.resources import (  # noqa: E402
    Database,
    GenericSecret,
    Grant,
    InternalStage,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Warehouse,
)

from bench.peer_stack import objects  # noqa: E402


def resources(n: int) -> list[Any]:
    made: dict[tuple[str, ...], Any] = {}
    out: list[Any] = []
    for o in objects(n):
        kind = o["kind"]
        if kind == "database":
            r = made[("db", o["name"])] = Database(name=o["name"])
        elif kind == "schema":
            r = made[("schema", o["database"], o["name"])] = Schema(name=o["name"], database=made[("db", o["database"])])
        elif kind in ("stage", "secret", "network_rule"):
            where = {"database": made[("db", o["database"])], "schema": made[("schema", o["database"], o["schema"])]}
            if kind == "stage":
                r = InternalStage(name=o["name"], directory={"enable": o["directory"]}, **where)
            elif kind == "secret":
                r = GenericSecret(name=o["name"], secret_string=o["value"], **where)
            else:
                r = NetworkRule(name=o["name"], type="HOST_PORT", mode="EGRESS", value_list=o["value_list"], **where)
        elif kind == "role":
            r = made[("role", o["name"])] = Role(name=o["name"])
        elif kind == "role_grant":
            r = RoleGrant(role=made[("role", o["role"])], to_role=o["to_role"])
        elif kind == "warehouse":
            r = Warehouse(name=o["name"], warehouse_size="XSMALL", auto_suspend=o["auto_suspend"],
                          initially_suspended=True)
        elif kind == "grant" and o["on"] == "schema":
            r = Grant(priv=o["privilege"], on=made[("schema", o["database"], o["schema"])], to=made[("role", o["to"])])
        elif kind == "grant":
            r = Grant(priv=o["privilege"], on_warehouse=o["warehouse"], to=made[("role", o["to"])])
        else:
            raise ValueError(f"unknown kind {kind!r}")
        out.append(r)
    return out


def main() -> int:
    params, n, action = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    blueprint = resources(n)
    out: dict[str, Any] = {"changes": None, "error": None}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        conn = snowflake.connector.connect(**params)
        plan = Blueprint(resources=blueprint).plan(conn)
        out["changes"] = len(plan)
        if action == "apply":
            Blueprint(resources=resources(n)).apply(conn, plan)  # a blueprint plans once: a fresh one applies
    except Exception as exc:  # reported as Titan's failure, with where it happened
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames) if "titan" in f.filename), "")
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}" + (f" (at {where})" if where else "")
    out["wall"], out["cpu"] = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
