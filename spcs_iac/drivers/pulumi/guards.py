"""What the provider refuses before it touches the target, with the engine's own rules.

- :func:`refuse_unmanaged_drop`: a Delete (a destroy, a removed resource, the delete half of a replace) of a
  database, schema or stage that holds what the stack does not manage is refused, with the CLI's
  message (``plan/consent.py``), unless the provider is configured with ``destroyAdopted``. What the
  container holds comes from the target (``Provider.contents``), as for ``spcs-iac plan``.
- :class:`LocalNames`: on the local target, where nothing exists outside the stacks of its state directory,
  an object naming one that neither the program declares nor a stack there has is refused at preview,
  as ``spcs-iac validate`` and plans refuse it (``LocalProvider``'s check, one object at a time).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping

from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.validate import IMPLICIT_SCHEMAS, named_references
from spcs_iac.plan.consent import check_consent
from spcs_iac.plan.model import Change, Plan
from spcs_iac.plan.target import Provider
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LOCAL_NAMED_KINDS, unresolved_names
from spcs_iac.targets.local.records import catalogs

DESTROY_OPT_IN = ("set the provider's destroyAdopted to true (pulumi config set spcs-iac:destroyAdopted true, "
                  "or spcs_iac.pulumi.Provider(destroy_adopted=True))")


def refuse_unmanaged_drop(target: Provider, stack: str, change: Change, r: Resource,
                          managed: Mapping[str, Resource | None], destroy_adopted: bool) -> None:
    """Raise, in one line, when dropping ``change``'s object would take with it what no resource of this
    Pulumi program manages (``managed``: the objects the provider has seen declared or deleted in this run,
    whose declarations say what else is theirs: a service's spec file on a stage)."""
    known = {**managed, r.address: r}
    change.loses = target.contents(change, known)
    if not change.loses:
        return
    try:
        check_consent(Plan(stack=stack, target=getattr(target, "target", ""), changes=[change]), adopt=True,
                      destroy_adopted=destroy_adopted, destroy_opt_in=DESTROY_OPT_IN)
    except SpcsIacError as exc:
        raise SpcsIacError(" ".join(line.strip() for line in str(exc).splitlines())) from None


class LocalNames:
    """What the stacks of a local state directory have, read once per provider process (a Pulumi run), and
    the local target's check of what one object names against it and the program's declarations."""

    def __init__(self, state_dir: str) -> None:
        self.root = naming.local_dir(state_dir)
        self._there: set[str] | None = None
        self._lock = threading.Lock()

    def there(self) -> set[str]:
        """Addresses every stack of the state directory (this one included: what earlier runs made) has."""
        with self._lock:
            if self._there is None:
                self._there = {address for catalog in catalogs(self.root) for address in catalog.load()}
            return self._there

    def missing(self, r: Resource, declared: Collection[str]) -> list[str]:
        """One line per name ``r`` gives that neither ``declared`` (what the program declared before it) nor
        the state directory has."""
        refs = named_references([r], LOCAL_NAMED_KINDS)
        if not refs:
            return []

        def exists(kind: str, name: str) -> bool:
            if f"{kind}.{name}" in declared or f"{kind}.{name}" in self.there():
                return True
            # A database's PUBLIC and INFORMATION_SCHEMA schemas come with it, wherever it is declared.
            parts = ids.split_qualified(name)
            return kind == "schema" and len(parts) == 2 and parts[1] in IMPLICIT_SCHEMAS \
                and exists("database", ids.quote(parts[0]))

        return [str(issue) for issues in unresolved_names(refs, exists).values() for issue in issues]
