"""The batched read (reference §16): every object of a run is read with a bounded number of round trips.

Phase 1 issues one ``SHOW <kinds> [IN ACCOUNT]`` per kind present, plus the SHOWs the requested kinds read
with (roles for grants, repositories for images); rows are matched to the requested objects in Python by
exact stored name. Phase 2 issues what depends on phase 1: one ``SHOW GRANTS TO / OF ROLE`` per role the
grants name (existing roles only), ``DESCRIBE`` for existing objects whose compared fields SHOW does not
return, and ``SHOW GRANTS ON`` those whose owner SHOW does not return. How each kind is read is its
adapter's (:mod:`.adapters`).

Each phase is one batch (:mod:`.batch`: a multi-statement request and one SELECT over its results). Objects
the state records most likely still exist, so their phase-2 reads go with phase 1 as guesses; phase 2 then
sends only what the guesses did not answer (objects found but not recorded, or a guess that failed). A plan
after an apply thus costs one batch; a first plan, two at most.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.plan.target import Observed, ReadRequest
from spcs_iac.targets.snowflake import readback as rb
from spcs_iac.targets.snowflake.adapters import ADAPTERS, Read

# Re-exported: grant rows are matched in grants.py, and callers (tests) import these from here.
from spcs_iac.targets.snowflake.grants import covers_all, row_target_key, target_key

if TYPE_CHECKING:
    from spcs_iac.targets.snowflake.connection import Db
    from spcs_iac.targets.snowflake.images import SnowflakeImages

__all__ = ["SHOW_LIMIT", "Reader", "covers_all", "missing_object", "row_target_key", "target_key"]
Key = tuple[str, ...]
SHOW_LIMIT = 10_000  # SHOW returns at most this many rows


def missing_object(exc: ProviderError) -> bool:
    """An error that only says the object (or role) is gone: treat it as absent."""
    return "does not exist" in str(exc).lower()


class Reader:
    def __init__(self, db: Db, images: SnowflakeImages | None = None) -> None:
        self.db = db
        self.images = images
        self.repositories: dict[Key, dict[str, Any]] = {}  # last read: image repository rows by key

    def read(self, requests: list[ReadRequest], also: list[str] | None = None) -> dict[str, Observed]:
        """The objects ``requests`` ask for; ``also``: more SHOWs to send with the first batch (their rows are
        cached for the run)."""
        by_kind: dict[str, list[ReadRequest]] = defaultdict(list)
        for req in requests:
            by_kind[req.kind].append(req)
        wanted = set(by_kind).union(*(ADAPTERS[k].reads_with for k in by_kind if k in ADAPTERS))
        kinds = [k for k, a in ADAPTERS.items() if a.read is Read.SHOW and k in wanted]
        extra = [k for k in kinds if ADAPTERS[k].rows_show and by_kind.get(k)]
        shows = [ADAPTERS[k].show_sql for k in kinds]
        extras = [ADAPTERS[k].rows_show or "" for k in extra]
        guesses = [s for s in self._expected(by_kind) if s not in shows]
        # SHOW COLUMNS first: the first statement's rows come from the connector itself, in the order the
        # account gave them (a table's columns are ordered).
        answers = self.db.read_batch(extras + shows + [s for s in also or () if s not in shows] + guesses,
                                     tolerate=missing_object, optional=guesses)
        grouped = {k: self._grouped(k, _shown(answers, sql), by_kind[k]) for k, sql in zip(extra, extras, strict=True)}
        rows: dict[str, dict[Key, dict[str, Any]]] = {}
        for kind, sql in zip(kinds, shows, strict=True):
            result = _shown(answers, sql)
            if len(result) >= SHOW_LIMIT and " IN ACCOUNT" in ADAPTERS[kind].show_sql:
                result = self._per_database(kind, by_kind.get(kind, []))
            rows[kind] = {key: row for row in result if (key := rb.row_key(kind, row)) is not None}
        self.repositories = rows.get("image_repository", {})

        found: dict[str, tuple[str, Key]] = {}  # address -> (kind, key) of objects that exist
        for kind in kinds:
            for req in by_kind.get(kind, []):
                key = ADAPTERS[kind].request_key(req.name)
                if key in rows[kind]:
                    found[req.address] = (kind, key)

        phase2, consumers = self._phase2(by_kind, found, rows)
        answers.update(self.db.read_batch([s for s in phase2 if s not in answers], tolerate=missing_object))

        out: dict[str, Observed] = {}
        for address, (kind, key) in found.items():
            row = dict(rows[kind][key])
            adapter = ADAPTERS[kind]
            if adapter.describe is not None:
                result = answers.get(adapter.describe_sql(key))
                if isinstance(result, ProviderError) or result is None:
                    continue  # vanished between SHOW and DESCRIBE
                row.update(rb.describe_row(result))
            if adapter.owner_on is not None:
                row["owner"] = rb.owner_of(answers.get(adapter.owner_sql(key)))
            if kind in grouped:
                row[adapter.column(adapter.rows_field or "")] = grouped[kind].get(key, [])
            out[address] = Observed(rb.props_of(kind, row, key[:2]), rb.outputs_of(kind, row))
        for kind, adapter in ADAPTERS.items():
            requested = by_kind.get(kind, [])
            if adapter.read is Read.ROLE_GRANTS and adapter.observe is not None:
                for req in requested:
                    result = answers.get(consumers.get(req.address, ""))
                    if isinstance(result, list) and (seen := adapter.observe(req, result)) is not None:
                        out[req.address] = seen
            elif adapter.read is Read.REGISTRY and requested and self.images is not None:
                out.update(self.images.read(requested, self.repositories))
        return out

    def _grouped(self, kind: str, result: Any, requests: list[ReadRequest]) -> dict[Key, list[dict[str, Any]]]:
        """The second SHOW's rows by object key (past SHOW's row limit, read per database)."""
        adapter = ADAPTERS[kind]
        assert not isinstance(result, ProviderError)
        if len(result) >= SHOW_LIMIT and adapter.rows_show and " IN ACCOUNT" in adapter.rows_show:
            databases = sorted({adapter.request_key(r.name)[0] for r in requests})
            sqls = [adapter.rows_show.replace(" IN ACCOUNT", f" IN DATABASE {ids.quote(db)}") for db in databases]
            # One statement per request here: a table's columns are ordered, and only a single statement's
            # rows (or a batch's first) come straight from the connector (batch.py).
            result = [row for part in self.db.queries(sqls, tolerate=missing_object) if isinstance(part, list)
                      for row in part]
        out: dict[Key, list[dict[str, Any]]] = {}
        for row in result:
            if all(not rb.is_null(row.get(c)) for c in adapter.rows_key):
                out.setdefault(tuple(str(row[c]) for c in adapter.rows_key), []).append(row)
        return out

    def _per_database(self, kind: str, requests: list[ReadRequest]) -> list[dict[str, Any]]:
        """SHOW returns at most 10,000 rows (§1.4): past that, read the databases in play one by one."""
        adapter = ADAPTERS[kind]
        databases = sorted({adapter.request_key(r.name)[0] for r in requests})
        sqls = [adapter.show_sql.replace(" IN ACCOUNT", f" IN DATABASE {ids.quote(db)}") for db in databases]
        parts = self.db.read_batch(sqls, tolerate=missing_object)
        return [row for sql in sqls if isinstance(part := parts.get(sql), list) for row in part]

    @staticmethod
    def _expected(by_kind: dict[str, list[ReadRequest]]) -> list[str]:
        """The phase-2 reads of the objects the state records, guessing that they still exist."""
        sqls: list[str] = []
        for kind, requests in by_kind.items():
            adapter = ADAPTERS.get(kind)
            for req in requests:
                if adapter is None or req.prior is None:
                    continue
                if adapter.read is Read.SHOW:
                    key = adapter.request_key(req.name)
                    sqls += [adapter.describe_sql(key)] if adapter.describe else []
                    sqls += [adapter.owner_sql(key)] if adapter.owner_on else []
                elif adapter.read is Read.ROLE_GRANTS and adapter.grants_of is not None:
                    sqls.append(adapter.grants_of(req.name)[1])
        return list(dict.fromkeys(sqls))

    @staticmethod
    def _phase2(by_kind: dict[str, list[ReadRequest]], found: dict[str, tuple[str, Key]],
                rows: dict[str, dict[Key, dict[str, Any]]]) -> tuple[list[str], dict[str, str]]:
        """DESCRIBEs of existing objects, and per grant the SHOW GRANTS that reads it (address -> SQL):
        only for roles phase 1 found, since SHOW GRANTS of a missing role fails."""
        sqls = [ADAPTERS[kind].describe_sql(key) for kind, key in found.values() if ADAPTERS[kind].describe]
        sqls += [ADAPTERS[kind].owner_sql(key) for kind, key in found.values() if ADAPTERS[kind].owner_on]
        consumers: dict[str, str] = {}
        for kind, adapter in ADAPTERS.items():
            if adapter.grants_of is None:
                continue
            roles = {key for k in adapter.reads_with for key in rows.get(k, {})}
            for req in by_kind.get(kind, []):
                need, sql = adapter.grants_of(req.name)  # a role, or the key of the service it belongs to
                if (need if isinstance(need, tuple) else (need,)) in roles:
                    consumers[req.address] = sql
        sqls.extend(dict.fromkeys(consumers.values()))
        return list(dict.fromkeys(sqls)), consumers


def _shown(answers: dict[str, list[dict[str, Any]] | ProviderError], sql: str) -> list[dict[str, Any]]:
    """A phase-1 SHOW's rows; its failure is the read's failure (nothing is tolerated there)."""
    result = answers[sql]
    if isinstance(result, ProviderError):
        raise result
    return result
