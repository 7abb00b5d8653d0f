"""What the provider refuses before it touches the target, with the engine's own rules.

- :func:`refuse_unmanaged_drop`: a Delete (a destroy, a removed resource, the delete half of a replace) of a
  database, schema or stage that holds what the stack does not manage is refused, with the CLI's
  message (``plan/consent.py``), unless the provider is configured with ``destroyAdopted``. What the
  container holds comes from the target (``Provider.contents``), as for ``spcs-iac plan``.
"""

from __future__ import annotations

from collections.abc import Iterable

from spcs_iac.errors import SpcsIacError
from spcs_iac.model.base import Resource
from spcs_iac.plan.consent import check_consent
from spcs_iac.plan.model import Change, Plan
from spcs_iac.plan.target import Provider

DESTROY_OPT_IN = ("set the provider's destroyAdopted to true (pulumi config set spcs-iac:destroyAdopted true, "
                  "or spcs_iac.pulumi.Provider(destroy_adopted=True))")


def refuse_unmanaged_drop(target: Provider, stack: str, change: Change, r: Resource, managed: Iterable[str],
                          destroy_adopted: bool) -> None:
    """Raise, in one line, when dropping ``change``'s object would take with it what no resource of this
    Pulumi program manages (``managed``: the addresses the provider has seen declared or deleted in this run)."""
    known: dict[str, Resource | None] = {address: None for address in managed}
    known[r.address] = r
    change.loses = target.contents(change, known)
    if not change.loses:
        return
    try:
        check_consent(Plan(stack=stack, target=getattr(target, "target", ""), changes=[change]), adopt=True,
                      destroy_adopted=destroy_adopted, destroy_opt_in=DESTROY_OPT_IN)
    except SpcsIacError as exc:
        raise SpcsIacError(" ".join(line.strip() for line in str(exc).splitlines())) from None
