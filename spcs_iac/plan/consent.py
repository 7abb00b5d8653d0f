"""What an apply may not do without the user saying so: take over objects it did not create, delete or
replace them once taken over, and drop a container that holds what the stack does not manage. Checked on
the whole plan before anything runs."""

from __future__ import annotations

from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Action, Plan


def check_consent(plan: Plan, *, adopt: bool, destroy_adopted: bool,
                  destroy_opt_in: str = "pass --destroy-adopted") -> None:
    """Raise, naming every object concerned, when the plan needs a consent that was not given.
    ``destroy_opt_in`` says how the user gives the word a drop needs (a driver without the flag)."""
    problems: list[str] = []
    adopting = [c.address for c in plan.actionable if c.adopting]
    if adopting and not adopt:
        problems.append(
            f"{len(adopting)} object(s) exist in the target but were not created by this stack: "
            f"{_names(adopting)}. Adopt them with --adopt (the stack then manages them, and `destroy` would "
            "drop them), adopt one at a time with `spcs-iac import STACK ADDRESS`, or rename them in the stack.")
    destroying = [c for c in plan.actionable if c.destroys_adopted]
    if destroying and not destroy_adopted:
        verbs = {c.address: "replace" if c.action is Action.REPLACE else "delete" for c in destroying}
        problems.append(
            f"the plan would {' or '.join(sorted(set(verbs.values())))} {len(destroying)} object(s) this stack did "
            f"not create: {_names(sorted(verbs))}. Whatever they hold goes with them; {destroy_opt_in} if "
            "that is intended, or `spcs-iac state rm` them to leave them in place.")
    holding = [c for c in plan.actionable if c.loses and c.action in (Action.DELETE, Action.REPLACE)]
    if holding and not destroy_adopted:
        lost = "; ".join(f"{c.address} holds {', '.join(c.loses[:5])}" + (f" and {len(c.loses) - 5} more"
                                                                          if len(c.loses) > 5 else "")
                         for c in holding)
        problems.append(
            f"the plan would drop {len(holding)} container(s) holding what this stack does not manage: {lost}. "
            f"{destroy_opt_in[:1].upper()}{destroy_opt_in[1:]} if that is intended, or move those objects out first.")
    if problems:
        raise SpcsIacError("nothing was changed:\n  " + "\n  ".join(problems))


def _names(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:10])
    return shown + (f" and {len(addresses) - 10} more" if len(addresses) > 10 else "")
