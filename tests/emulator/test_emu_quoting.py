"""Identifier quoting and string-literal escaping round-trip through the real connector."""

from __future__ import annotations

import json

import pytest

from spcs_emulator.lexer import tokenize

HOSTILE = [
    "it's",
    "back\\slash",
    "dollar $$ quote $$",
    "multi\nline\r\ntext\twith tab",
    "'; DROP ROLE ACCOUNTADMIN; --",
    "unicode ✓ ünï",
    "trailing backslash \\",
    '"double" quotes',
]


def lit(value: str) -> str:
    """The injection-safe encoder from reference §1.3."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.mark.parametrize("comment", HOSTILE)
def test_hostile_comments_round_trip(sf, comment):
    sf.run(f"CREATE ROLE R COMMENT = {lit(comment)}")
    assert sf.one("SHOW ROLES LIKE 'R'")["comment"] == comment
    sf.run("CREATE DATABASE D")
    sf.run(f"CREATE STAGE D.PUBLIC.S COMMENT = {lit(comment)}")
    assert sf.one("SHOW STAGES")["comment"] == comment
    sf.run(f"CREATE WAREHOUSE W COMMENT = {lit(comment)}")
    sf.run(f"ALTER WAREHOUSE W SET COMMENT = {lit(comment + '!')}")
    assert sf.one("SHOW WAREHOUSES")["comment"] == comment + "!"
    sf.run(f"CREATE SECRET D.PUBLIC.SEC TYPE = GENERIC_STRING SECRET_STRING = {lit(comment)}")
    assert sf.emu.cat.get("SECRET", ("D", "PUBLIC", "SEC")).props["secret_string"] == comment


def test_escape_sequences_in_literals():
    toks = tokenize(r"'a\nb' 'c\\d' 'e''f' '\x41\u00e9\101' '\z' $$raw \n $$")
    assert [t.value for t in toks[:-1]] == ["a\nb", "c\\d", "e'f", "AéA", "z", "raw \\n "]


def test_quoted_identifiers_keep_case_and_specials(sf):
    role = 'my "role"'
    db = "My.DB"
    schema = "s x"
    stage = "St'age"
    sf.run(f"CREATE ROLE {quote(role)}")
    sf.run(f"CREATE DATABASE {quote(db)}")
    sf.run(f"CREATE SCHEMA {quote(db)}.{quote(schema)}")
    sf.run(f"CREATE STAGE {quote(db)}.{quote(schema)}.{quote(stage)}")
    assert sf.one(f"SHOW ROLES LIKE {lit(role)}")["name"] == role
    row = sf.one(f"SHOW STAGES IN SCHEMA {quote(db)}.{quote(schema)}")
    assert (row["name"], row["database_name"], row["schema_name"]) == (stage, db, schema)
    sf.run(f"GRANT READ ON STAGE {quote(db)}.{quote(schema)}.{quote(stage)} TO ROLE {quote(role)}")
    grant = sf.one(f"SHOW GRANTS TO ROLE {quote(role)}")
    assert grant["name"] == '"My.DB"."s x"."St\'age"' and grant["grantee_name"] == role
    # unquoted and quoted-upper are the same object
    sf.run("CREATE ROLE mixedCase")
    assert sf.err('CREATE ROLE "MIXEDCASE"').errno == 2002
    sf.run('CREATE ROLE "mixedCase"')
    assert {"MIXEDCASE", "mixedCase"} <= {r["name"] for r in sf.run("SHOW ROLES")}
    sf.run(f"DROP STAGE {quote(db)}.{quote(schema)}.{quote(stage)}")


def test_like_pattern_escaping(sf):
    sf.run("CREATE ROLE MY_ROLE")
    sf.run("CREATE ROLE MYXROLE")
    assert {r["name"] for r in sf.run("SHOW ROLES LIKE 'MY_ROLE'")} == {"MY_ROLE", "MYXROLE"}
    assert [r["name"] for r in sf.run(r"SHOW ROLES LIKE 'MY\\_ROLE'")] == ["MY_ROLE"]
    assert [r["name"] for r in sf.run("SHOW ROLES LIKE 'my%' LIMIT 1")] == ["MYXROLE"]  # sorted by name


def test_spec_with_escaped_dollars_round_trips(spcs):
    sf = spcs
    spec = {"spec": {"containers": [{"name": "main", "image": "/db/public/repo/a:1",
                                     "env": {"PRICE": "$$5", "Q": "it's"}}]}}
    text = json.dumps(spec).replace("$", "\\u0024")
    sf.run(f"CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION $${text}$$")
    desc = sf.one("DESC SERVICE DB.PUBLIC.SVC")
    assert "PRICE: $$5" in desc["spec"]
    e = sf.err("CREATE SERVICE DB.PUBLIC.SVC2 IN COMPUTE POOL POOL FROM SPECIFICATION $$a: $$b$$")
    assert e.errno == 1003
