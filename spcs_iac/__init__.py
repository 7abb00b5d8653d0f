"""spcs-iac: declarative infrastructure-as-code for Snowpark Container Services.

Declare objects in Python, add them to a ``Stack``, then validate / plan / apply / destroy against
the local Docker target or a Snowflake account (``spcs_iac.drivers.api``, or the ``spcs-iac`` CLI).

The names below load on first use, so ``spcs-iac --help`` and other small commands start at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_KINDS = ("ComputePool", "Database", "ExternalAccessIntegration", "FunctionArgument", "Grant", "Image",
          "ImageRepository", "JobService", "NetworkRule", "Role", "RoleGrant", "Schema", "Secret", "Service",
          "ServiceFunction", "ServiceRoleGrant", "Stage", "Table", "TableColumn", "Warehouse")
_SPEC = ("Capabilities", "Container", "ContainerSecret", "Endpoint", "LogExporters", "PlatformMonitor", "Probe",
         "ResourceAmounts", "Resources", "ServiceRole", "ServiceSpec", "Volume", "VolumeMount")
_ERRORS = ("DeclarationError", "SpcsIacError", "StackValidationError")
_HOME = {**dict.fromkeys(_KINDS, "spcs_iac.model.kinds"), **dict.fromkeys(_SPEC, "spcs_iac.model.spec"),
         **dict.fromkeys(_ERRORS, "spcs_iac.errors"), "Stack": "spcs_iac.model.stack",
         "environment": "spcs_iac.model.environment"}

__all__ = [
    "Capabilities", "ComputePool", "Container", "ContainerSecret", "Database", "DeclarationError",
    "Endpoint", "ExternalAccessIntegration", "FunctionArgument", "Grant", "Image", "ImageRepository",
    "JobService", "LogExporters", "NetworkRule", "PlatformMonitor", "Probe", "ResourceAmounts", "Resources",
    "Role", "RoleGrant", "Schema", "Secret", "Service", "ServiceFunction", "ServiceRole", "ServiceRoleGrant",
    "ServiceSpec", "SpcsIacError", "Stack", "StackValidationError", "Stage", "Table", "TableColumn",
    "Volume", "VolumeMount", "Warehouse", "environment",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'spcs_iac' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


if TYPE_CHECKING:
    from spcs_iac.errors import DeclarationError, SpcsIacError, StackValidationError
    from spcs_iac.model.environment import environment
    from spcs_iac.model.kinds import (
        ComputePool,
        Database,
        ExternalAccessIntegration,
        FunctionArgument,
        Grant,
        Image,
        ImageRepository,
        JobService,
        NetworkRule,
        Role,
        RoleGrant,
        Schema,
        Secret,
        Service,
        ServiceFunction,
        ServiceRoleGrant,
        Stage,
        Table,
        TableColumn,
        Warehouse,
    )
    from spcs_iac.model.spec import (
        Capabilities,
        Container,
        ContainerSecret,
        Endpoint,
        LogExporters,
        PlatformMonitor,
        Probe,
        ResourceAmounts,
        Resources,
        ServiceRole,
        ServiceSpec,
        Volume,
        VolumeMount,
    )
    from spcs_iac.model.stack import Stack
