"""IMAGE REPOSITORY statements, SHOW IMAGES, and the optional lookup in a local Docker registry."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

from . import props as P
from .columns import columns
from .context import Ctx
from .ddl_objects import _simple_alter, c_encryption, create_schema_obj, require_plain, schema_show
from .parser import Parser
from .registry import handles
from .results import Result, ok

# -- IMAGE REPOSITORY ---------------------------------------------------------------------------
REPO_SPEC: P.Spec = {"ENCRYPTION": (c_encryption, "SNOWFLAKE_FULL"), "COMMENT": (P.c_comment, None)}


@handles("CREATE IMAGE REPOSITORY")
def create_image_repository(ctx: Ctx, p: Parser) -> Result:
    ine, key = create_schema_obj(ctx, p, "IMAGE REPOSITORY")
    values = P.with_defaults(REPO_SPEC, P.parse(p, REPO_SPEC))
    p.end()
    require_plain(key, "image repository")
    ctx.require_schema(*key[:2])
    comment, pr = P.split_create(values)
    return ctx.create(ctx.new_obj("IMAGE REPOSITORY", key, comment, **pr), ine, "Image Repository")


@handles("ALTER IMAGE REPOSITORY")
def alter_image_repository(ctx: Ctx, p: Parser) -> Result:
    spec = {"COMMENT": REPO_SPEC["COMMENT"]}
    _simple_alter(ctx, p, "IMAGE REPOSITORY", spec, spec)
    return ok()


@handles("DROP IMAGE REPOSITORY")
def drop_image_repository(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), "DROP IMAGE REPOSITORY")
    p.end()
    result = ctx.drop("IMAGE REPOSITORY", key, ine)
    ctx.emu.images.pop(tuple(key), None)
    return result


def repository_url(ctx: Ctx, key: tuple[str, ...]) -> str:
    return f"{ctx.emu.registry_host}/{key[0]}/{key[1]}/{key[2]}".lower()


@handles("SHOW IMAGE REPOSITORIES")
def show_image_repositories(ctx: Ctx, p: Parser) -> Result:
    cols = columns("SHOW IMAGE REPOSITORIES")
    rows = [[r.created_on, r.key[2], r.key[0], r.key[1], repository_url(ctx, r.key), r.owner, "ROLE", r.comment,
             r.props["encryption"]] for r in schema_show(ctx, p, "IMAGE REPOSITORY")]
    return Result(cols, rows)


@handles("SHOW IMAGES")
def show_images(ctx: Ctx, p: Parser) -> Result:
    like = p.string() if p.accept_kw("LIKE") else None
    p.expect_kw("IN", "IMAGE", "REPOSITORY")
    key = ctx.object_key(p.name(), "SHOW IMAGES")
    p.end()
    ctx.cat.require("IMAGE REPOSITORY", key)
    prefix = f"{key[0]}/{key[1]}/{key[2]}".lower()
    images = list(ctx.emu.images.get(tuple(key), []))
    if not ctx.emu.registry_host.endswith("snowflakecomputing.com"):
        images += _registry_images(ctx.emu.registry_host, prefix)
    cols = columns("SHOW IMAGES")
    rows = []
    for img in images:
        if like is None or re.fullmatch(like.replace("%", ".*").replace("_", "."), img["image"], re.I):
            rows.append([img["created_on"], img["image"], img["tag"], img["digest"],
                         f"{prefix}/{img['image']}:{img['tag']}"])
    return Result(cols, rows)


def _registry_images(host: str, prefix: str) -> list[dict[str, Any]]:
    """Images under ``prefix`` in a Docker registry (HTTP API v2); empty if it cannot be reached."""
    out: list[dict[str, Any]] = []
    try:
        with urllib.request.urlopen(f"http://{host}/v2/_catalog?n=10000", timeout=2) as resp:
            repos = json.load(resp).get("repositories") or []
        for repo in repos:
            if not repo.startswith(prefix + "/"):
                continue
            with urllib.request.urlopen(f"http://{host}/v2/{repo}/tags/list", timeout=2) as resp:
                tags = json.load(resp).get("tags") or []
            for tag in tags:
                req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", method="HEAD")
                req.add_header("Accept", "application/vnd.docker.distribution.manifest.v2+json, "
                               "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
                with urllib.request.urlopen(req, timeout=2) as resp:
                    digest = resp.headers.get("Docker-Content-Digest", "")
                out.append({"image": repo[len(prefix) + 1:], "tag": tag, "digest": digest,
                            "created_on": time.time()})
    except (OSError, ValueError):
        return out
    return out

