"""Container kinds: compute pools, image repositories and images (reference §9, §10)."""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import field_validator, model_validator

from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource, SchemaScoped, object_or_name
from spcs_iac.model.fields import Fmt, Prop, Unset, Update
from spcs_iac.model.kinds.account import Comment, parse_bool
from spcs_iac.model.kinds.objects import Encryption, _encryption


class Family(NamedTuple):
    vcpu: float
    memory_gib: int
    gpus: int
    arch: str = "amd64"


# Reference §9.2. Sizes drive local CPU/memory limits and GPU validation.
INSTANCE_FAMILIES: dict[str, Family] = {
    "CPU_X64_XS": Family(1, 6, 0), "CPU_X64_S": Family(3, 13, 0), "CPU_X64_M": Family(6, 28, 0),
    "CPU_X64_SL": Family(14, 58, 0), "CPU_X64_L": Family(28, 116, 0),
    "HIGHMEM_X64_S": Family(6, 58, 0), "HIGHMEM_X64_M": Family(28, 240, 0), "HIGHMEM_X64_L": Family(124, 984, 0),
    "HIGHMEM_X64_SL": Family(60, 492, 0),
    **{f"GEN_X64_G2_{n}": Family(v, m, 0) for n, v, m in ((2, 1, 6), (4, 3, 13), (8, 6, 28), (16, 14, 58), (32, 28, 116))},
    **{f"GEN_ARM_G1_{n}": Family(v, m, 0, "arm64")
       for n, v, m in ((2, 1, 6), (4, 3, 13), (8, 6, 28), (16, 14, 58), (32, 28, 116))},
    **{f"MEM_X64_G2_{n}": Family(v, m, 0)
       for n, v, m in ((8, 6, 58), (32, 28, 240), (64, 60, 492), (96, 92, 652), (192, 188, 1436))},
    "GPU_NV_S": Family(6, 28, 1), "GPU_NV_M": Family(44, 178, 4), "GPU_NV_L": Family(92, 1112, 8),
    "GPU_L40S_G1_8": Family(6, 58, 1), "GPU_L40S_G1_16": Family(14, 116, 1), "GPU_L40S_G1_48": Family(44, 360, 4),
    "GPU_L40S_G1_192": Family(188, 1436, 8),
    "GPU_R6K_G1_8": Family(6, 58, 1), "GPU_R6K_G1_16": Family(14, 116, 1), "GPU_R6K_G1_32": Family(28, 240, 1),
    "GPU_R6K_G1_48": Family(44, 360, 2), "GPU_R6K_G1_96": Family(92, 720, 4), "GPU_R6K_G1_192": Family(188, 1843, 8),
    "GPU_NV_XS": Family(3, 26, 1), "GPU_NV_SM": Family(32, 424, 1), "GPU_NV_2M": Family(68, 858, 2),
    "GPU_NV_3M": Family(44, 424, 2), "GPU_NV_SL": Family(92, 858, 4),
    "GPU_GCP_NV_L4_1_24G": Family(6, 28, 1), "GPU_GCP_NV_L4_4_24G": Family(44, 178, 4),
    "GPU_A100_G1_12": Family(10, 77, 1), "GPU_A100_G1_48": Family(44, 324, 4), "GPU_GCP_NV_A100_8_40G": Family(92, 654, 8),
}
# The seed's comment spells the family "standard_1" (an old name); its code uses CPU_X64_XS.
FAMILY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class UnknownInstanceFamily(UserWarning):
    """A compute pool names an instance family spcs-iac does not know (a newer one Snowflake added)."""


class ComputePool(Resource):
    """A compute pool (reference §9). An instance-family change is SUSPEND -> SET -> RESUME."""

    kind: ClassVar[str] = "compute_pool"
    sql_type: ClassVar[str] = "COMPUTE POOL"
    allow_quoted_name: ClassVar[bool] = False

    min_nodes: Annotated[int, Prop(sql="MIN_NODES", fmt=Fmt.INT)] = 1
    max_nodes: Annotated[int, Prop(sql="MAX_NODES", fmt=Fmt.INT)] = 1
    instance_family: Annotated[str, Prop(sql="INSTANCE_FAMILY", doc="changed while suspended")]
    auto_resume: Annotated[bool | None, Prop(sql="AUTO_RESUME", fmt=Fmt.BOOL, default=True)] = None
    auto_suspend_secs: Annotated[int | None, Prop(sql="AUTO_SUSPEND_SECS", fmt=Fmt.INT, default=3600)] = None
    initially_suspended: Annotated[
        bool | None, Prop(sql="INITIALLY_SUSPENDED", fmt=Fmt.BOOL, update=Update.CREATE_ONLY, readable=False,
                          unset=Unset.IGNORE)
    ] = None
    # Not managed unless declared: a pool suspends itself after AUTO_SUSPEND_SECS idle and resumes on
    # demand. A pool that an interrupted instance-family change left suspended is resumed all the same.
    suspended: Annotated[bool | None, Prop(fmt=Fmt.SPECIAL, unset=Unset.IGNORE,
                                           doc="True: kept suspended; False: kept running (resumed)")] = None
    comment: Comment = None

    # Changing these suspends the pool, and with it every service on it (ALTER COMPUTE POOL, SUSPEND):
    # https://docs.snowflake.com/en/sql-reference/sql/alter-compute-pool
    suspending_fields: ClassVar[tuple[str, ...]] = ("instance_family",)

    @field_validator("instance_family", mode="before")
    @classmethod
    def _family(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            if not FAMILY_NAME.match(v):
                raise ValueError(f"instance_family {v!r} is not a family name like CPU_X64_XS (letters, digits, '_')")
        return v

    @model_validator(mode="after")
    def _new_family(self) -> ComputePool:
        # Snowflake adds families (GPU ones above all): an unknown name goes through as it is, without
        # the limits and GPU checks a known family gets, and Snowflake has the last word.
        if self.instance_family not in INSTANCE_FAMILIES:
            warnings.warn(UnknownInstanceFamily(
                f"ComputePool {self.name}: instance_family {self.instance_family!r} is not one spcs-iac knows; "
                "it is passed to Snowflake as it is, without CPU, memory or GPU checks"),
                stacklevel=4)  # the declaring line: this validator <- pydantic <- Resource.__init__ <- caller
        return self

    @field_validator("auto_resume", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return parse_bool(v)

    @model_validator(mode="after")
    def _nodes(self) -> ComputePool:
        if not 1 <= self.min_nodes <= self.max_nodes:
            raise ValueError(f"need 1 <= min_nodes ({self.min_nodes}) <= max_nodes ({self.max_nodes})")
        if self.auto_suspend_secs is not None and self.auto_suspend_secs < 0:
            raise ValueError(f"auto_suspend_secs must be >= 0, got {self.auto_suspend_secs}")
        return self

    @property
    def family(self) -> Family | None:
        """The family's size, or None for a family spcs-iac does not know (passed through as it is)."""
        return INSTANCE_FAMILIES.get(self.instance_family)


class ImageRepository(SchemaScoped):
    """An image repository (reference §10): an OCI registry path ``<db>/<schema>/<repo>``."""

    kind: ClassVar[str] = "image_repository"
    sql_type: ClassVar[str] = "IMAGE REPOSITORY"
    allow_quoted_name: ClassVar[bool] = False

    encryption: Annotated[
        Encryption | None, Prop(sql="ENCRYPTION", fmt=Fmt.SPECIAL, update=Update.REPLACE, default="SNOWFLAKE_FULL",
                                doc="replacing deletes every image in the repository")
    ] = None
    comment: Comment = None

    @field_validator("encryption", mode="before")
    @classmethod
    def _enc(cls, v: Any) -> Any:
        return _encryption(v)

    @property
    def registry_path(self) -> str:
        """``db/schema/repo`` in lower case, as in repository URLs."""
        return "/".join(p.lower() for p in self.name_parts())


IMAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SKIP_DIRS = {".git", "__pycache__", ".venv", "node_modules", ".spcs-iac"}


def _sent_to_builder(root: Path, dockerfile: str) -> set[str] | None:
    """The context's files the build gets, when a ``.dockerignore`` leaves some out (None: all of them). Read
    as the Docker SDK's build reads it, with its own matcher (loaded only then: it imports the SDK)."""
    ignore = root / ".dockerignore"
    if not ignore.is_file():
        return None
    patterns = [line.strip() for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines()]
    from docker.utils.build import exclude_paths

    return {p.replace(os.sep, "/") for p in exclude_paths(str(root), [p for p in patterns if p and p[0] != "#"],
                                                          dockerfile=dockerfile)}


class Image(Resource):
    """An image built from a local context with Docker and pushed to a repository.

    Its identity is ``repository/name:tag``. The plan rebuilds it when the build inputs (the context
    files, Dockerfile, build args, platform) hash differently from the last push, or when the tag in
    the registry no longer points at the digest that was pushed; services using it then upgrade.
    """

    kind: ClassVar[str] = "image"
    sql_type: ClassVar[str] = "IMAGE"
    drift_outputs: ClassVar[tuple[str, ...]] = ("digest",)

    repository: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="image_repository", identity=True, follow_replace=True)]
    tag: str = "latest"
    context: str
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = {}
    platform: str = "linux/amd64"
    build_hash: Annotated[str | None, Prop(readable=False, doc="hash of the build inputs")] = None

    @field_validator("name")
    @classmethod
    def _normalise_name(cls, v: str) -> str:
        if not IMAGE_NAME.match(v):
            raise ValueError(f"image name {v!r}: lower-case letters, digits, '.', '_', '-' and '/' separators")
        return v

    @field_validator("tag")
    @classmethod
    def _tag(cls, v: str) -> str:
        if not IMAGE_TAG.match(v):
            raise ValueError(f"tag {v!r}: letters, digits, '_', '.', '-' (at most 128, not starting with . or -)")
        return v

    @field_validator("repository", mode="before")
    @classmethod
    def _repo(cls, v: Any) -> Any:
        def name(text: str) -> str:
            parts = ids.split_qualified(text)
            if len(parts) != 3:
                raise ValueError(f"repository must be an ImageRepository or a name DB.SCHEMA.REPO, got {text!r}")
            return ids.qualified(*parts)

        return object_or_name(v, "image_repository", "repository", "an ImageRepository or a name DB.SCHEMA.REPO",
                              name)

    @field_validator("context")
    @classmethod
    def _context(cls, v: str) -> str:
        return str(Path(v).expanduser())

    def name_parts(self) -> tuple[str, ...]:
        return (self.repository_fqn, f"{self.name}:{self.tag}")

    def compute_fqn(self) -> str:
        return f"{self.repository_fqn}/{self.name}:{self.tag}"

    @property
    def repository_fqn(self) -> str:
        r = self.repository
        return r.fqn if isinstance(r, Resource) else r

    @property
    def registry_path(self) -> str:
        return "/".join(p.lower() for p in ids.split_qualified(self.repository_fqn))

    def spec_reference(self) -> str:
        """How a spec names this image: ``/db/schema/repo/name:tag`` (reference §10.2)."""
        return f"/{self.registry_path}/{self.name}:{self.tag}"

    def build_inputs_hash(self) -> str:
        """Hash of everything that goes into the build: context files, Dockerfile, args, platform."""
        root = Path(self.context)
        h = hashlib.sha256()
        h.update(f"{self.dockerfile}\0{self.platform}\0{sorted(self.build_args.items())}".encode())
        if not root.is_dir():
            return "missing-context"
        kept = _sent_to_builder(root, self.dockerfile)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for fn in sorted(filenames):
                p = Path(dirpath) / fn
                relative = p.relative_to(root).as_posix()
                if kept is not None and relative not in kept:
                    continue  # left out of the build by .dockerignore: changing it rebuilds nothing
                h.update(relative.encode() + b"\0")
                h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()[:16]

    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        values = super().desired(outputs)
        values["build_hash"] = self.build_inputs_hash()
        return values

    def extra_references(self) -> Iterator[tuple[str, str, Resource | str]]:
        return iter(())
