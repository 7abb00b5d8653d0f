"""The provider interface every target implements (snowflake, local, the in-memory test provider).

Providers translate; they do not decide. The planner hands them a Change that already says what to do
(action and field diffs); the provider turns it into SQL, Docker calls or records. Reading is batched:
``read`` receives every object of a run at once and should issue one query per kind, not per object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spcs_iac.errors import Issue
    from spcs_iac.model.base import Resource
    from spcs_iac.plan.model import Change
    from spcs_iac.state.store import StateEntry


@dataclass
class ReadRequest:
    address: str
    kind: str
    name: str
    resource: Resource | None  # the desired object, None if only the state knows it
    prior: StateEntry | None


@dataclass
class Observed:
    """What the target has for one object: its properties (declared field names) and outputs."""

    props: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApplyContext:
    """What an operation may need beyond its own change: outputs of objects applied before it."""

    outputs: Mapping[str, Mapping[str, Any]]
    stack: str
    log: Any = None  # callable(str) for progress lines

    def say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)


class Provider(ABC):
    target: str = ""

    @abstractmethod
    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        """Batched read of the live state; absent objects are simply missing from the result."""

    def statements(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """What applying the change will run, for the plan (SQL for Snowflake; may be empty).
        ``outputs`` are the outputs known at plan time (recorded and read), without those the apply
        will regenerate (a rebuilt image's digest)."""
        return []

    def unresolved(self) -> Mapping[str, list[Issue]]:
        """What the objects of the last ``read`` need from the target and it lacks, by object address: names
        used without being declared (a misspelt secret, a pool of another stack never applied), or an owner
        left to a connection role that cannot own the object. The planner refuses a plan that would create
        or change such an object."""
        return {}

    def contents(self, change: Change, managed: Mapping[str, Resource | None]) -> list[str]:
        """What dropping ``change``'s container object (a database, schema or stage) would take with it
        that the stack does not manage: one line per object or file. ``managed`` maps every address the
        stack declares or records to its declaration (None when only the state knows it)."""
        return []

    @abstractmethod
    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        """Create the object (action create, the create half of replace); returns its outputs."""

    @abstractmethod
    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        """Apply the changed fields in place (update, import with differences); returns outputs."""

    @abstractmethod
    def delete(self, change: Change, ctx: ApplyContext) -> None:
        """Remove the object (delete, the delete half of replace). ``change.prior`` says what it was."""

    def prepare_apply(self, parallelism: int, changes: Sequence[Change] = ()) -> None:
        """Up to ``parallelism`` operations are about to run at once, for ``changes``: a target that pools
        connections sizes its pool to that, so that no operation waits for another's connection."""
        return None

    def warm_up(self, count: int) -> None:
        """An apply of up to ``count`` operations at once is starting (its plan comes first): a target that
        logs connections in opens that many now, in the background, so that the plan's reads hide the
        logins rather than the first operations waiting for them."""
        return None

    def close(self) -> None:
        return None
