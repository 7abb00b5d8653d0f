"""Every resource kind, declared once. ``KINDS`` maps a kind name to its class."""

from spcs_iac.model.kinds.account import Database, Grant, Role, RoleGrant, Schema, Warehouse
from spcs_iac.model.kinds.objects import ExternalAccessIntegration, NetworkRule, Secret, Stage
from spcs_iac.model.kinds.services import (
    FunctionArgument,
    JobService,
    Service,
    ServiceFunction,
    ServiceRoleGrant,
)
from spcs_iac.model.kinds.spcs import ComputePool, Image, ImageRepository
from spcs_iac.model.kinds.tables import Table, TableColumn

ALL_KINDS = (
    Role, RoleGrant, Grant, Warehouse, Database, Schema, Stage, Secret, NetworkRule,
    ExternalAccessIntegration, ComputePool, ImageRepository, Image, Service, JobService, ServiceFunction,
    ServiceRoleGrant, Table,
)
KINDS = {cls.kind: cls for cls in ALL_KINDS}

__all__ = [c.__name__ for c in ALL_KINDS] + ["FunctionArgument", "TableColumn", "KINDS", "ALL_KINDS"]
