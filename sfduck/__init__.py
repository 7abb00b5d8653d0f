"""Snowflake SQL on DuckDB: the small library the local target and the account emulator share.

It imports neither ``spcs_iac`` nor ``spcs_emulator`` (each of those is its own product); both run
Snowflake-dialect data SQL through it:

- :mod:`.types`: Snowflake data types, their canonical spelling, DuckDB storage type and the forms
  SHOW COLUMNS and result metadata print;
- :mod:`.translate`: one Snowflake statement -> DuckDB SQL, via sqlglot, with Snowflake's name resolution
  (current database and schema, unquoted names folded to upper case) and hooks for user functions;
- :mod:`.errors`: Snowflake's error codes and messages, and DuckDB's errors mapped to them;
- :mod:`.warehouse`: a DuckDB database laid out as Snowflake databases and schemas, running statements.
"""

from typing import Any

__all__ = ["Outcome", "SnowflakeError", "Statement", "Warehouse"]
_HOME = {"SnowflakeError": "sfduck.errors", "Statement": "sfduck.translate", "Outcome": "sfduck.warehouse",
         "Warehouse": "sfduck.warehouse"}


def __getattr__(name: str) -> Any:
    # sqlglot and duckdb load only when SQL is run: declaring a Table (sfduck.types) must stay cheap.
    if name not in _HOME:
        raise AttributeError(f"module 'sfduck' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOME[name]), name)
