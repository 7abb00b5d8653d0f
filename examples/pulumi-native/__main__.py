"""The convert-api part of the SPCS quickstart as a Pulumi program with native spcs-iac resources.

    cd examples/pulumi-native
    pulumi stack init dev
    pulumi config set spcs-iac:target local           # or snowflake (then spcs-iac:connection NAME, or
                                                      # spcs-iac:snowflake.* and --secret spcs-iac:password)
    pulumi up
    spcs-iac call CONVERT_UDF 12 --pulumi-stack dev   # 53.6

Arguments take pulumi.Input: plain values, other spcs-iac resources (a reference, and a dependency) and
Outputs of any Pulumi resource. Here the API token is another resource's output, kept a Pulumi secret.
"""

import os
from pathlib import Path

import pulumi

import spcs_iac.pulumi as spcs

ROOT = Path(__file__).resolve().parents[2]

db = spcs.Database("db", name="CONTAINER_HOL_DB")
pool = spcs.ComputePool("pool", name="CONTAINER_HOL_POOL", instance_family="CPU_X64_XS")
repo = spcs.ImageRepository("repo", name="IMAGE_REPO", database=db)
image = spcs.Image("convert-api", name="convert-api", tag="dev", repository=repo,
                   context=str(ROOT / "examples" / "convert-api"),
                   build_args={"BASE_IMAGE": os.environ.get("SPCS_IAC_BASE_IMAGE", "python:3.11-slim")})
token = spcs.Secret("token", name="API_TOKEN", database=db, type="GENERIC_STRING",
                    secret_string=repo.repository_url.apply(lambda url: "token-" + url.rsplit("/", 1)[-1]))
api = spcs.Service("convert-api-service", name="CONVERT_API", database=db, compute_pool=pool, spec={
    "containers": [{"name": "convert-api", "image": image,
                    "secrets": [{"snowflakeSecret": token, "secretKeyRef": "secret_string",
                                 "envVarName": "API_TOKEN"}]}],
    "endpoints": [{"name": "convert-api", "port": 9090, "public": True}]})
spcs.ServiceFunction("convert-udf", name="CONVERT_UDF", database=db, service=api, endpoint="convert-api",
                     path="/convert", arguments=[{"name": "input", "datatype": "REAL"}], returns="REAL",
                     max_batch_rows=5)

pulumi.export("endpoints", api.endpoints)
pulumi.export("dns_name", api.dns_name)
pulumi.export("repository_url", repo.repository_url)
pulumi.export("digest", image.digest)
