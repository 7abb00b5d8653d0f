"""Smoke-test program for scripts/pulumi/smoke/smoke.sh: one dynamic resource
whose provider writes marker files in $SMOKE_MARK_DIR."""

import os

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult


class MarkerProvider(ResourceProvider):
    def create(self, props):
        path = os.path.join(props["dir"], "created-" + props["name"])
        with open(path, "w") as f:
            f.write(props["content"])
        return CreateResult(id_=props["name"], outs={**props, "path": path})

    def diff(self, id, olds, news):
        return DiffResult(changes=olds.get("content") != news.get("content"))

    def update(self, id, olds, news):
        with open(olds["path"], "w") as f:
            f.write(news["content"])
        return UpdateResult(outs={**news, "path": olds["path"]})

    def delete(self, id, props):
        with open(os.path.join(props["dir"], "deleted-" + id), "w") as f:
            f.write(props["content"])


class Marker(Resource):
    path: pulumi.Output[str]

    def __init__(self, name, props, opts=None):
        super().__init__(MarkerProvider(), name, {**props, "path": None}, opts)


content = pulumi.Config().get("content") or "v1"
marker = Marker("m1", {"name": "m1", "dir": os.environ["SMOKE_MARK_DIR"], "content": content})
pulumi.export("path", marker.path)
