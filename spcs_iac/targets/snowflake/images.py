"""Images on Snowflake: built with Docker and pushed to the repository URL that SHOW IMAGE REPOSITORIES
reports (reference §10.2-§10.3); read back as the registry's current digest for the tag."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.plan.target import Observed, ReadRequest
from spcs_iac.targets.images import (
    ImageTool,
    RegistryAuth,
    RegistryUnreachable,
    display_commands,
    is_local_registry,
    split_ref,
)
from spcs_iac.targets.snowflake.sql import show_like
from spcs_iac.targets.snowflake.values import is_null, named_row, split_list

if TYPE_CHECKING:
    from spcs_iac.model.kinds.spcs import Image
    from spcs_iac.targets.snowflake.connection import Db

Key = tuple[str, ...]


def image_parts(name: str) -> tuple[str, str, str]:
    """An Image's recorded name ``DB.S.REPO/name:tag`` -> (repository fqn, image name, tag)."""
    repo, sep, rest = name.partition("/")
    image, colon, tag = rest.rpartition(":")
    if not sep or not colon or not image:
        raise ProviderError(f"image name {name!r} is not REPOSITORY/name:tag")
    return repo, image, tag


def registry_auth(params: Mapping[str, Any]) -> RegistryAuth | None:
    """Docker login for the account registry: the connection's user with its password or access token."""
    user = params.get("registry_username") or params.get("user")
    secret = params.get("registry_password") or params.get("password") or params.get("token")
    if user and secret:
        return RegistryAuth(str(user), str(secret))
    return None


class SnowflakeImages:
    def __init__(self, db: Db, tool: ImageTool, auth: RegistryAuth | None) -> None:
        self.db = db
        self.tool = tool
        self.auth = auth

    def _auth_for(self, ref: str) -> RegistryAuth | None:
        return None if is_local_registry(split_ref(ref)[0]) else self.auth

    # ---- reading ---------------------------------------------------------------------------------
    def read(self, requests: list[ReadRequest], repositories: Mapping[Key, Mapping[str, Any]]) -> dict[str, Observed]:
        out: dict[str, Observed] = {}
        for req in requests:
            repo, image, tag = image_parts(req.name)
            key = tuple(ids.split_qualified(repo))
            row = repositories.get(key)
            if row is None or is_null(row.get("repository_url")):
                continue  # no repository, hence no image
            digest = self._digest(f"{row['repository_url']}/{image}:{tag}", key, image, tag)
            if not digest:
                continue
            prior = req.prior
            recorded = prior.outputs.get("digest") if prior is not None else None
            build_hash = prior.props.get("build_hash") if prior is not None and recorded == digest else None
            out[req.address] = Observed({"build_hash": build_hash}, {"digest": digest})
        return out

    def _digest(self, ref: str, repo_key: Key, image: str, tag: str) -> str | None:
        try:
            return self.tool.remote_digest(ref, self._auth_for(ref))
        except RegistryUnreachable:
            # Fall back to what Snowflake lists (one cached query per repository).
            rows = self.db.query(f"SHOW IMAGES IN IMAGE REPOSITORY {ids.qualified(*repo_key)}")
            for row in rows:
                if str(row.get("image_name")) == image and tag in split_list(row.get("tags")):
                    return str(row.get("digest") or "") or None
            return None

    # ---- applying ----------------------------------------------------------------------------------
    def repository_url(self, image: Image, outputs: Mapping[str, Mapping[str, Any]],
                       repositories: Mapping[Key, Mapping[str, Any]], *, fetch: bool = True) -> str | None:
        """From the repository's recorded outputs, the last read, or (when applying) a fresh SHOW."""
        address = f"image_repository.{image.repository_fqn}"
        url = (outputs.get(address) or {}).get("repository_url")
        key = tuple(ids.split_qualified(image.repository_fqn))
        if not url and key in repositories:
            url = repositories[key].get("repository_url")
        if not url and fetch:
            sql, name = show_like("IMAGE REPOSITORIES", image.repository_fqn)
            url = (named_row(self.db.query(sql, cache=False), name) or {}).get("repository_url")
        return None if is_null(url) else str(url)

    def create(self, image: Image, url: str, log: Callable[[str], None] | None) -> dict[str, Any]:
        ref = f"{url}/{image.name}:{image.tag}"
        return {"digest": self.tool.build_and_push(image, ref, self._auth_for(ref), log)}

    @staticmethod
    def display(image: Image, url: str | None) -> list[str]:
        # Before the repository exists its URL is unknown: show the reference as specs write it.
        ref = f"{url}/{image.name}:{image.tag}" if url else image.spec_reference()
        return display_commands(image, ref)
