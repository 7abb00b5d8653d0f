"""spcs-iac: declarative infrastructure-as-code for Snowpark Container Services.

Declare objects in Python, add them to a ``Stack``, then validate / plan / apply / destroy against
the local Docker target or a Snowflake account.
"""

from spcs_iac.errors import DeclarationError, SpcsIacError, StackValidationError
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
    Stage,
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

__version__ = "0.1.0"

__all__ = [
    "Capabilities", "ComputePool", "Container", "ContainerSecret", "Database", "DeclarationError", "Endpoint",
    "ExternalAccessIntegration", "FunctionArgument", "Grant", "Image", "ImageRepository", "JobService",
    "LogExporters", "NetworkRule", "PlatformMonitor", "Probe", "ResourceAmounts", "Resources", "Role",
    "RoleGrant", "Schema", "Secret", "Service", "ServiceFunction", "ServiceRole", "ServiceSpec",
    "SpcsIacError", "Stack", "StackValidationError", "Stage", "Volume", "VolumeMount", "Warehouse",
]
