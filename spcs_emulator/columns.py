"""The columns every SHOW / DESCRIBE the emulator answers returns, in order, with where they are documented.

One table, cited: the Snowflake reference page of the command (``D:`` below is
https://docs.snowflake.com/en/sql-reference/sql/), and where the page lists no output, the Terraform
provider's row struct for it (``TF:`` pkg/sdk/<file>), which is decoded from what Snowflake returns.
The handlers build their rows in this order; tests/emulator/test_emu_columns.py runs every command
against this table. Optional columns an edition adds (``privatelink_*`` on Business Critical) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import FIXED, TEXT, TIMESTAMP

Columns = list[tuple[str, str]]


@dataclass(frozen=True)
class Output:
    source: str
    columns: Columns

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _text(*names: str) -> Columns:
    return [(n, TEXT) for n in names]


GRANT_ROWS = [("created_on", TIMESTAMP), *_text("privilege", "granted_on", "name", "granted_to", "grantee_name",
                                               "grant_option", "granted_by")]
GRANTS_OF = [("created_on", TIMESTAMP), *_text("role", "granted_to", "grantee_name", "granted_by")]
SERVICE = [
    *_text("name", "status", "database_name", "schema_name", "owner", "compute_pool", "dns_name"),
    ("current_instances", FIXED), ("target_instances", FIXED), ("min_ready_instances", FIXED),
    ("min_instances", FIXED), ("max_instances", FIXED), ("auto_resume", TEXT), ("external_access_integrations", TEXT),
    ("created_on", TIMESTAMP), ("updated_on", TIMESTAMP), ("resumed_on", TIMESTAMP), ("suspended_on", TIMESTAMP),
    ("auto_suspend_secs", FIXED),
    *_text("comment", "owner_role_type", "query_warehouse", "is_job", "is_async_job", "spec_digest", "is_upgrading",
           "managing_object_domain", "managing_object_name"),
]
POOL = [
    *_text("name", "state"), ("min_nodes", FIXED), ("max_nodes", FIXED), ("instance_family", TEXT),
    ("num_services", FIXED), ("num_jobs", FIXED), ("auto_suspend_secs", FIXED), ("auto_resume", TEXT),
    ("active_nodes", FIXED), ("idle_nodes", FIXED), ("target_nodes", FIXED), ("created_on", TIMESTAMP),
    ("resumed_on", TIMESTAMP), ("updated_on", TIMESTAMP),
    *_text("owner", "comment", "is_exclusive", "application", "placement_group", "backup_instance_families"),
]

OUTPUTS: dict[str, Output] = {
    "SHOW ROLES": Output("D:show-roles", [
        ("created_on", TIMESTAMP), *_text("name", "is_default", "is_current", "is_inherited"),
        ("assigned_to_users", FIXED), ("granted_to_roles", FIXED), ("granted_roles", FIXED), *_text("owner", "comment")]),
    "SHOW WAREHOUSES": Output("D:show-warehouses; TF:warehouses.go warehouseDBRow", [
        *_text("name", "state", "type", "size"), ("min_cluster_count", FIXED), ("max_cluster_count", FIXED),
        ("started_clusters", FIXED), ("running", FIXED), ("queued", FIXED), *_text("is_default", "is_current"),
        ("auto_suspend", FIXED), *_text("auto_resume", "available", "provisioning", "quiescing", "other"),
        ("created_on", TIMESTAMP), ("resumed_on", TIMESTAMP), ("updated_on", TIMESTAMP),
        *_text("owner", "comment", "enable_query_acceleration"), ("query_acceleration_max_scale_factor", FIXED),
        ("resource_monitor", TEXT), ("actives", FIXED), ("pendings", FIXED), ("failed", FIXED),
        ("suspended", FIXED), *_text("uuid", "scaling_policy", "owner_role_type", "resource_constraint", "generation")]),
    "SHOW DATABASES": Output("D:show-databases; TF:databases.go databaseRow", [
        ("created_on", TIMESTAMP), *_text("name", "is_default", "is_current", "origin", "owner", "comment", "options",
                                          "retention_time", "kind", "owner_role_type")]),
    "SHOW SCHEMAS": Output("D:show-schemas; TF:schemas.go schemaDBRow", [
        ("created_on", TIMESTAMP), *_text("name", "is_default", "is_current", "database_name", "owner", "comment",
                                          "options", "retention_time", "owner_role_type")]),
    "SHOW STAGES": Output("D:show-stages; TF:stages.go stageDBRow", [
        ("created_on", TIMESTAMP), *_text("name", "database_name", "schema_name", "url", "has_credentials",
                                          "has_encryption_key", "owner", "comment", "region", "type", "cloud",
                                          "storage_integration", "endpoint", "owner_role_type", "directory_enabled")]),
    "LIST": Output("D:list", [("name", TEXT), ("size", FIXED), ("md5", TEXT), ("last_modified", TEXT)]),
    "SHOW SECRETS": Output("D:show-secrets; TF:secrets.go secretDBRow", [
        ("created_on", TIMESTAMP), *_text("name", "schema_name", "database_name", "owner", "comment", "secret_type",
                                          "oauth_scopes", "owner_role_type")]),
    "DESC SECRET": Output("D:desc-secret; TF:secrets.go secretDetailsDBRow", [
        ("created_on", TIMESTAMP), *_text("name", "schema_name", "database_name", "owner", "comment", "secret_type",
                                          "username"), ("oauth_access_token_expiry_time", TIMESTAMP),
        *_text("oauth_refresh_token_expiry_time", "oauth_scopes", "integration_name")]),
    "SHOW NETWORK RULES": Output("D:show-network-rules; TF:network_rule.go ShowNetworkRulesRow", [
        ("created_on", TIMESTAMP), *_text("name", "database_name", "schema_name", "owner", "comment", "type", "mode"),
        ("entries_in_valuelist", FIXED), ("owner_role_type", TEXT)]),
    "DESC NETWORK RULE": Output("D:desc-network-rule", [
        ("created_on", TIMESTAMP), *_text("name", "database_name", "schema_name", "owner", "comment", "type", "mode",
                                          "value_list")]),
    "SHOW INTEGRATIONS": Output("D:show-integrations", [
        *_text("name", "type", "category", "enabled", "comment"), ("created_on", TIMESTAMP)]),
    "DESC INTEGRATION": Output("D:desc-integration", _text("property", "property_type", "property_value",
                                                             "property_default")),
    "SHOW COMPUTE POOLS": Output("D:show-compute-pools", POOL),
    "DESC COMPUTE POOL": Output("D:desc-compute-pool; TF:compute_pools.go", [*POOL, *_text("error_code",
                                                                                           "status_message")]),
    "SHOW IMAGE REPOSITORIES": Output("D:show-image-repositories", [
        ("created_on", TIMESTAMP), *_text("name", "database_name", "schema_name", "repository_url", "owner",
                                          "owner_role_type", "comment", "encryption")]),
    "SHOW IMAGES": Output("D:show-images-in-image-repository", [
        ("created_on", TIMESTAMP), *_text("image_name", "tags", "digest", "image_path")]),
    "SHOW SERVICES": Output("D:show-services", SERVICE),
    "SHOW JOB SERVICES": Output("D:show-services (no is_job with JOB / EXCLUDE JOBS)",
                                [c for c in SERVICE if c[0] != "is_job"]),
    "DESC SERVICE": Output("D:desc-service (spec after compute_pool, for the owner)", [
        *SERVICE[:6], ("spec", TEXT), *SERVICE[6:]]),
    "SHOW SERVICE CONTAINERS": Output("D:show-service-containers-in-service", [
        *_text("database_name", "schema_name", "service_name", "service_status", "instance_id", "instance_status",
               "container_name", "status", "message", "image_name", "image_digest"), ("restart_count", FIXED),
        ("start_time", TEXT), ("last_exit_code", FIXED), ("last_restart_time", TEXT)]),
    "SHOW SERVICE INSTANCES": Output("D:show-service-instances-in-service", _text(
        "database_name", "schema_name", "service_name", "service_status", "instance_id", "status", "spec_digest",
        "creation_time", "start_time", "ip_address")),
    "SHOW ENDPOINTS": Output("D:show-endpoints", _text("name", "port", "port_range", "protocol", "is_public",
                                                        "ingress_url")),
    "SHOW ROLES IN SERVICE": Output("D:show-roles-in-service", [("created_on", TIMESTAMP), *_text("name", "comment")]),
    "SHOW USER FUNCTIONS": Output("D:show-user-functions", [
        ("created_on", TIMESTAMP), *_text("name", "schema_name", "is_builtin", "is_aggregate", "is_ansi"),
        ("min_num_arguments", FIXED), ("max_num_arguments", FIXED),
        *_text("arguments", "description", "catalog_name", "is_table_function", "valid_for_clustering", "is_secure",
               "secrets", "external_access_integrations", "is_external_function", "language", "is_memoizable",
               "is_data_metric")]),
    "DESC FUNCTION": Output("D:desc-function-spcs", _text("property", "value")),
    "SHOW GRANTS TO": Output("D:show-grants", GRANT_ROWS),
    "SHOW GRANTS ON": Output("D:show-grants (granted_by_role_type: BCR 2023_04)",
                             [*GRANT_ROWS, ("granted_by_role_type", TEXT)]),
    "SHOW GRANTS OF": Output("D:show-grants (OF ROLE / OF SERVICE ROLE)", GRANTS_OF),
    "SHOW PARAMETERS": Output("D:show-parameters", _text("key", "value", "default", "level", "description", "type")),
}
# Commands answered with the same columns under another name.
OUTPUTS["SHOW EXTERNAL ACCESS INTEGRATIONS"] = OUTPUTS["SHOW INTEGRATIONS"]
OUTPUTS["DESC EXTERNAL ACCESS INTEGRATION"] = OUTPUTS["DESC INTEGRATION"]
OUTPUTS["DESC JOB SERVICE"] = OUTPUTS["DESC SERVICE"]
OUTPUTS["SHOW FUNCTIONS"] = OUTPUTS["SHOW USER FUNCTIONS"]


def columns(command: str) -> Columns:
    return list(OUTPUTS[command].columns)
