"""Stages, secrets, network rules, external access integrations, image repositories."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STAGE_COLUMNS = ["created_on", "name", "database_name", "schema_name", "url", "has_credentials",
                 "has_encryption_key", "owner", "comment", "region", "type", "cloud", "storage_integration",
                 "endpoint", "owner_role_type", "directory_enabled"]


def test_stage_lifecycle(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE STAGE IF NOT EXISTS DB.PUBLIC.SPECS ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE') "
           "DIRECTORY = (ENABLE = TRUE) COMMENT = 'specs'")
    sf.run("CREATE STAGE DB.PUBLIC.PLAIN")
    assert sf.columns("SHOW STAGES IN SCHEMA DB.PUBLIC") == STAGE_COLUMNS
    rows = {r["name"]: r for r in sf.run("SHOW STAGES IN DATABASE DB")}
    assert rows["SPECS"]["type"] == "INTERNAL NO CSE" and rows["SPECS"]["directory_enabled"] == "Y"
    assert rows["PLAIN"]["type"] == "INTERNAL" and rows["PLAIN"]["directory_enabled"] == "N"
    assert rows["PLAIN"]["comment"] is None and rows["SPECS"]["comment"] == "specs"
    sf.run("ALTER STAGE DB.PUBLIC.PLAIN SET DIRECTORY = (ENABLE = TRUE)")
    sf.run("ALTER STAGE DB.PUBLIC.PLAIN SET COMMENT = 'c'")
    row = sf.one("SHOW STAGES LIKE 'PLAIN' IN ACCOUNT")
    assert row["directory_enabled"] == "Y" and row["comment"] == "c"
    sf.run("ALTER STAGE DB.PUBLIC.PLAIN UNSET COMMENT")
    assert sf.one("SHOW STAGES LIKE 'PLAIN' IN ACCOUNT")["comment"] is None
    assert sf.err("ALTER STAGE DB.PUBLIC.PLAIN SET ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')").errno == 1003
    sf.run("DROP STAGE DB.PUBLIC.PLAIN")
    sf.run("DROP STAGE IF EXISTS DB.PUBLIC.PLAIN")
    assert sf.err("DROP STAGE DB.PUBLIC.PLAIN").errno == 2003


def test_secret_lifecycle(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE SECRET DB.PUBLIC.TOKEN TYPE = GENERIC_STRING SECRET_STRING = 's3cr3t' COMMENT = 'tok'")
    sf.run("CREATE SECRET IF NOT EXISTS DB.PUBLIC.CREDS TYPE = PASSWORD USERNAME = 'bob' PASSWORD = 'pw'")
    rows = {r["name"]: r for r in sf.run("SHOW SECRETS IN SCHEMA DB.PUBLIC")}
    assert rows["TOKEN"]["secret_type"] == "GENERIC_STRING" and rows["TOKEN"]["comment"] == "tok"
    assert rows["CREDS"]["secret_type"] == "PASSWORD" and rows["CREDS"]["database_name"] == "DB"
    assert "s3cr3t" not in json.dumps(sf.run("SHOW SECRETS"), default=str)
    sf.run("ALTER SECRET DB.PUBLIC.TOKEN SET SECRET_STRING = 'new' COMMENT = 'rotated'")
    secret = sf.emu.cat.get("SECRET", ("DB", "PUBLIC", "TOKEN"))
    assert secret.props["secret_string"] == "new"
    assert sf.err("ALTER SECRET DB.PUBLIC.TOKEN SET USERNAME = 'x'").errno == 1003
    sf.run("ALTER SECRET DB.PUBLIC.CREDS SET USERNAME = 'alice' PASSWORD = 'pw2'")
    assert sf.one("DESC SECRET DB.PUBLIC.CREDS")["username"] == "alice"
    sf.run("ALTER SECRET DB.PUBLIC.TOKEN UNSET COMMENT")
    assert sf.one("SHOW SECRETS LIKE 'TOKEN'")["comment"] is None
    assert sf.err("CREATE SECRET DB.PUBLIC.BAD TYPE = GENERIC_STRING").errno == 1003
    sf.run("DROP SECRET DB.PUBLIC.TOKEN")
    assert [r["name"] for r in sf.run("SHOW SECRETS IN DATABASE DB")] == ["CREDS"]


def test_network_rule_lifecycle(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE NETWORK RULE DB.PUBLIC.EGRESS_RULE TYPE = HOST_PORT VALUE_LIST = ('api.example.com', "
           "'x.org:8443') MODE = EGRESS COMMENT = 'out'")
    row = sf.one("SHOW NETWORK RULES IN SCHEMA DB.PUBLIC")
    assert (row["name"], row["type"], row["mode"], row["entries_in_valuelist"], row["comment"]) == (
        "EGRESS_RULE", "HOST_PORT", "EGRESS", 2, "out")
    desc = sf.one("DESC NETWORK RULE DB.PUBLIC.EGRESS_RULE")
    assert desc["value_list"] == "api.example.com,x.org:8443"
    sf.run("ALTER NETWORK RULE DB.PUBLIC.EGRESS_RULE SET VALUE_LIST = ('only.example.com')")
    assert sf.one("DESC NETWORK RULE DB.PUBLIC.EGRESS_RULE")["value_list"] == "only.example.com"
    sf.run("ALTER NETWORK RULE DB.PUBLIC.EGRESS_RULE UNSET COMMENT")
    sf.run("ALTER NETWORK RULE DB.PUBLIC.EGRESS_RULE UNSET VALUE_LIST")
    row = sf.one("SHOW NETWORK RULES")
    assert row["comment"] is None and row["entries_in_valuelist"] == 0
    assert sf.err("CREATE NETWORK RULE DB.PUBLIC.BAD TYPE = HOST_PORT VALUE_LIST = ('a') MODE = INGRESS").errno == 1003
    sf.run("DROP NETWORK RULE IF EXISTS DB.PUBLIC.EGRESS_RULE")
    assert sf.run("SHOW NETWORK RULES IN ACCOUNT") == []


def test_external_access_integration(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE NETWORK RULE DB.PUBLIC.R1 TYPE = HOST_PORT VALUE_LIST = ('a.com') MODE = EGRESS")
    sf.run("CREATE NETWORK RULE DB.PUBLIC.R2 TYPE = HOST_PORT VALUE_LIST = ('b.com') MODE = EGRESS")
    sf.run("CREATE NETWORK RULE DB.PUBLIC.IN_RULE TYPE = IPV4 VALUE_LIST = ('10.0.0.0/8')")
    sf.run("CREATE SECRET DB.PUBLIC.S TYPE = GENERIC_STRING SECRET_STRING = 'x'")
    sf.run("CREATE EXTERNAL ACCESS INTEGRATION EAI ALLOWED_NETWORK_RULES = (DB.PUBLIC.R1, R2) "
           "ALLOWED_AUTHENTICATION_SECRETS = (DB.PUBLIC.S) ENABLED = TRUE COMMENT = 'egress'")
    assert sf.columns("SHOW EXTERNAL ACCESS INTEGRATIONS") == ["name", "type", "category", "enabled", "comment",
                                                               "created_on"]
    row = sf.one("SHOW INTEGRATIONS LIKE 'EAI'")
    assert (row["type"], row["enabled"], row["comment"]) == ("EXTERNAL_ACCESS", "true", "egress")
    desc = {r["property"]: r["property_value"] for r in sf.run("DESC EXTERNAL ACCESS INTEGRATION EAI")}
    assert desc["ALLOWED_NETWORK_RULES"] == "DB.PUBLIC.R1,DB.PUBLIC.R2"
    assert desc["ALLOWED_AUTHENTICATION_SECRETS"] == "DB.PUBLIC.S" and desc["ENABLED"] == "true"
    sf.run("ALTER EXTERNAL ACCESS INTEGRATION EAI SET ALLOWED_NETWORK_RULES = (DB.PUBLIC.R2) ENABLED = FALSE "
           "ALLOWED_AUTHENTICATION_SECRETS = ALL")
    desc = {r["property"]: r["property_value"] for r in sf.run("DESC INTEGRATION EAI")}
    assert desc["ALLOWED_NETWORK_RULES"] == "DB.PUBLIC.R2" and desc["ENABLED"] == "false"
    assert desc["ALLOWED_AUTHENTICATION_SECRETS"] == "ALL"
    sf.run("ALTER EXTERNAL ACCESS INTEGRATION EAI UNSET COMMENT")
    assert sf.one("SHOW EXTERNAL ACCESS INTEGRATIONS")["comment"] is None
    assert sf.err("CREATE EXTERNAL ACCESS INTEGRATION E2 ALLOWED_NETWORK_RULES = (DB.PUBLIC.NOPE) "
                  "ENABLED = TRUE").errno == 2003
    assert sf.err("CREATE EXTERNAL ACCESS INTEGRATION E2 ALLOWED_NETWORK_RULES = (DB.PUBLIC.IN_RULE) "
                  "ENABLED = TRUE").errno == 1003
    sf.run("DROP INTEGRATION EAI")
    sf.run("DROP EXTERNAL ACCESS INTEGRATION IF EXISTS EAI")
    assert sf.run("SHOW INTEGRATIONS") == []


def test_image_repository(sf):
    sf.emu.registry_host = "127.0.0.1:5555"
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE IMAGE REPOSITORY IF NOT EXISTS DB.PUBLIC.REPO ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE') COMMENT = 'r'")
    assert sf.columns("SHOW IMAGE REPOSITORIES") == ["created_on", "name", "database_name", "schema_name",
                                                     "repository_url", "owner", "owner_role_type", "comment",
                                                     "encryption"]
    row = sf.one("SHOW IMAGE REPOSITORIES IN SCHEMA DB.PUBLIC")
    assert row["repository_url"] == "127.0.0.1:5555/db/public/repo" and row["encryption"] == "SNOWFLAKE_SSE"
    sf.run("ALTER IMAGE REPOSITORY DB.PUBLIC.REPO SET COMMENT = 'r2'")
    assert sf.one("SHOW IMAGE REPOSITORIES IN ACCOUNT")["comment"] == "r2"
    sf.run("ALTER IMAGE REPOSITORY DB.PUBLIC.REPO UNSET COMMENT")
    assert sf.one("SHOW IMAGE REPOSITORIES IN DATABASE DB")["comment"] is None
    assert sf.err('CREATE IMAGE REPOSITORY DB.PUBLIC."lower"').errno == 1003
    sf.emu.add_image("DB.PUBLIC.REPO", "echo", "1.0", "sha256:abc")
    img = sf.one("SHOW IMAGES IN IMAGE REPOSITORY DB.PUBLIC.REPO")
    assert (img["image_name"], img["tags"], img["digest"], img["image_path"]) == (
        "echo", "1.0", "sha256:abc", "db/public/repo/echo:1.0")
    sf.run("DROP IMAGE REPOSITORY DB.PUBLIC.REPO")
    assert sf.run("SHOW IMAGE REPOSITORIES") == []


def test_default_registry_host(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE IMAGE REPOSITORY DB.PUBLIC.REPO")
    row = sf.one("SHOW IMAGE REPOSITORIES")
    assert row["repository_url"] == "emu-account.registry.snowflakecomputing.com/db/public/repo"
    assert row["encryption"] == "SNOWFLAKE_FULL"


class _FakeRegistry(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Content-Digest", "sha256:feed")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/v2/_catalog"):
            return self._json({"repositories": ["db/public/repo/echo", "other/x/y/z"]})
        if self.path == "/v2/db/public/repo/echo/tags/list":
            return self._json({"name": "db/public/repo/echo", "tags": ["1.0"]})
        self.send_error(404)

    def do_HEAD(self):  # noqa: N802
        return self._json({})


def test_show_images_reads_local_registry(sf):
    registry = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRegistry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    try:
        sf.emu.registry_host = f"127.0.0.1:{registry.server_address[1]}"
        sf.run("CREATE DATABASE DB")
        sf.run("CREATE IMAGE REPOSITORY DB.PUBLIC.REPO")
        rows = sf.run("SHOW IMAGES IN IMAGE REPOSITORY DB.PUBLIC.REPO")
        assert [(r["image_name"], r["tags"], r["digest"]) for r in rows] == [("echo", "1.0", "sha256:feed")]
    finally:
        registry.shutdown()
        registry.server_close()


def test_show_without_in_uses_current_database(sf):
    sf.run("CREATE DATABASE D1")
    sf.run("CREATE STAGE D1.PUBLIC.A")
    sf.run("CREATE DATABASE D2")  # also becomes the current database
    sf.run("CREATE STAGE D2.PUBLIC.B")
    assert [r["name"] for r in sf.run("SHOW STAGES")] == ["B"]
    assert [r["name"] for r in sf.run("SHOW STAGES IN ACCOUNT")] == ["A", "B"]
    sf.run("USE DATABASE D1")
    assert [r["name"] for r in sf.run("SHOW STAGES")] == ["A"]
    assert [r["name"] for r in sf.run("SHOW STAGES IN SCHEMA PUBLIC")] == ["A"]
