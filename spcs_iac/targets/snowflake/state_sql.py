"""The account's SQL for the state backend (``snowflake://DATABASE.SCHEMA``): the target's own sessions."""

from __future__ import annotations

from typing import Any

from spcs_iac.targets.snowflake.connection import Db
from spcs_iac.targets.snowflake.sql import Stmt


class ConnectionSql:
    """``query`` returns rows; ``count`` returns the rows a DML statement changed, from the
    ``number of rows inserted/updated/deleted`` columns Snowflake returns for DML."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self.db.session() as sess:
            return self.db.run(sess, Stmt((sql,), None))

    def count(self, sql: str) -> int:
        rows = self.query(sql)
        return sum(int(v or 0) for row in rows for k, v in row.items() if k.lower().startswith("number of rows"))
