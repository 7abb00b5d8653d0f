"""A person's own connection to the emulator, for tests that change the account by hand (drift) or look
at it the way a user would: the plain connector, with only the parameter connector 5.2 asks to be said."""

from __future__ import annotations

from typing import Any


def hand_connection(port: int | str, **params: Any) -> Any:
    """``snowflake.connector.connect`` to the emulator on ``port`` as the admin user. From connector 5.2 a
    login that leaves ``enable_server_session_keep_alive_auto_detection`` unset warns (a FutureWarning);
    a person would set it once in connections.toml, so it is set here too."""
    import snowflake.connector

    from spcs_iac.targets.snowflake import timeouts

    base: dict[str, Any] = {"account": "emu", "user": "admin", "password": "x", "host": "127.0.0.1",
                            "protocol": "http", "port": int(port)}
    base.update(params)
    base.update(timeouts.logout_on_close(timeouts.connector_version()))
    return snowflake.connector.connect(**base)
