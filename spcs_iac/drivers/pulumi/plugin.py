"""The ``spcs-iac`` Pulumi resource provider: a plugin process the Pulumi engine starts and talks gRPC to.

Run as ``pulumi-resource-spcs-iac ENGINE_ADDRESS`` (``scripts/install-pulumi.sh`` installs that
launcher next to the Pulumi CLI; it runs ``python -m spcs_iac.drivers.pulumi.plugin``). Every
operation is self-contained: the object's declaration and the secret values it needs arrive in its
inputs, the target and where it keeps its data in the provider's configuration. The work is done by
``bridge.py``; this module only speaks the protocol: secrets stay secrets, previews compute nothing,
errors reach the user as the same one-line messages the CLI prints, with no traceback.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, plugin_pb2, provider_pb2, provider_pb2_grpc

from spcs_iac import __version__
from spcs_iac.drivers.pulumi import bridge
from spcs_iac.drivers.pulumi.config import CONFIG_KEYS, check_config, moved, read_config, stack_of, state_dir
from spcs_iac.drivers.pulumi.guards import LocalNames
from spcs_iac.drivers.pulumi.hidden import secret_values
from spcs_iac.drivers.pulumi.wire import decode, encode, reveal
from spcs_iac.errors import SpcsIacError
from spcs_iac.model.base import Resource
from spcs_iac.model.redact import scrub

VERSION = __version__
PACKAGE = "spcs-iac"
_KIND = {"add": provider_pb2.PropertyDiff.ADD, "delete": provider_pb2.PropertyDiff.DELETE,
         "update": provider_pb2.PropertyDiff.UPDATE}
_REPLACE_KIND = {"add": provider_pb2.PropertyDiff.ADD_REPLACE, "delete": provider_pb2.PropertyDiff.DELETE_REPLACE,
                 "update": provider_pb2.PropertyDiff.UPDATE_REPLACE}


class Servicer(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, engine_address: str | None) -> None:
        self.config: dict[str, Any] = {}
        self._engine = None
        if engine_address:
            self._engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(engine_address))
        self._lock = threading.Lock()
        # The objects this run declares (Check) or deletes, by address: what the program manages, for a Delete
        # to tell them from what a database, schema or stage holds besides.
        self.managed: dict[str, Resource] = {}
        self.identities: set[str] = set()  # objects declared whose other inputs are not known yet (a preview)
        self._names: tuple[str, LocalNames] | None = None

    # ---- plumbing -----------------------------------------------------------------------------------
    def local_names(self) -> LocalNames:
        """The local target's name check for this configuration (what the state directory has, read once)."""
        where = state_dir(self.config)
        with self._lock:
            if self._names is None or self._names[0] != where:
                self._names = (where, LocalNames(where))
            return self._names[1]

    def log(self, urn: str, message: str, severity: int = engine_pb2.INFO) -> None:
        if self._engine is None:
            print(message, file=sys.stderr)
            return
        try:
            self._engine.Log(engine_pb2.LogRequest(severity=severity, message=message, urn=urn))
        except grpc.RpcError:  # the engine is going away: nothing to tell it
            pass

    def secrets_of(self, request: Any) -> list[str]:
        """The secret values a request carries (and the connection password): never repeated in a message.
        Names are not secret values, even when Pulumi hands them over as secrets (hidden.py)."""
        found = [str(self.config["password"])] if self.config.get("password") else []
        variables = getattr(request, "variables", None)  # Configure: `pulumi config` values, as text
        found += [v for k, v in dict(variables or {}).items() if k.endswith(":password") and v]
        type_token = getattr(request, "type", "") or _type(getattr(request, "urn", ""))
        for name in ("news", "olds", "properties", "inputs", "old_inputs", "args"):
            try:
                present = request.HasField(name)
            except ValueError:  # this request type has no such field
                continue
            if present:
                found += secret_values(type_token, decode(getattr(request, name)))
        return found

    def operation(self, urn: str, secrets: list[str]) -> bridge.Operation:
        from spcs_iac.drivers.targets import get_provider

        cfg = self.config
        stack = str(cfg.get("stack") or stack_of(urn))
        options: dict[str, Any] = {"state_dir": state_dir(cfg)}
        if cfg["target"] != "local":
            options.update({k: v for k, v in (cfg.get("snowflake") or {}).items() if v not in (None, "")})
            if cfg.get("connection"):
                options["connection"] = cfg["connection"]
            if cfg.get("password"):
                options["password"] = cfg["password"]
            # Pulumi reads one object per call and resolves names through its own graph: looking up what the
            # object names would cost each read a batch of SHOWs.
            options["check_names"] = False
        target = get_provider(cfg["target"], stack, **options)
        where = {"target": cfg["target"], "stack": stack, "stateDir": options["state_dir"]}
        return bridge.Operation(target, stack, lambda line: self.log(urn, scrub(line.strip(), secrets),
                                                                     engine_pb2.DEBUG), where)

    def run(self, context: grpc.ServicerContext, request: Any, body: Callable[[list[str]], Any]) -> Any:
        """Errors become one clear message for the engine; unexpected ones keep their type, no traceback.
        No message repeats a secret value the request carries."""
        secrets = self.secrets_of(request)
        try:
            return body(secrets)
        except SpcsIacError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, scrub(str(exc), secrets))
        except Answered:
            raise  # the response is set already
        except Exception as exc:  # an unexpected failure: the message, and the traceback in the plugin log
            print(scrub(traceback.format_exc(), secrets), file=sys.stderr)
            context.abort(grpc.StatusCode.UNKNOWN, scrub(f"spcs-iac provider: {type(exc).__name__}: {exc}", secrets))

    # ---- configuration --------------------------------------------------------------------------------
    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        news = decode(request.news)
        failures = []
        try:
            check_config(read_config({}, reveal({k: v for k, v in news.items() if k != "version"})))
        except SpcsIacError as exc:
            failures.append(provider_pb2.CheckFailure(property="", reason=str(exc)))
        return provider_pb2.CheckResponse(inputs=request.news, failures=failures)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        def body(_secrets: list[str]) -> provider_pb2.DiffResponse:
            olds = reveal(decode(request.old_inputs if request.HasField("old_inputs") else request.olds))
            news = reveal(decode(request.news))
            changed = sorted(k for k in CONFIG_KEYS if olds.get(k) != news.get(k))
            # Another target, account or state directory is another place: the objects Pulumi's state records
            # are not there. As Pulumi's own providers do for such keys (the AWS provider for `region`, the
            # Kubernetes provider for another cluster), the provider asks to be replaced, and Pulumi then
            # replaces every resource it manages: each is created in the new place and deleted from the old
            # one through the old configuration, and the preview shows it. What only says how to log in or
            # what a delete may do (user, role, password, destroyAdopted) updates the provider in place; a
            # move the target cannot make is refused (config.moved).
            replaces = moved(olds, news, request.urn)
            return provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_SOME if changed or replaces
                else provider_pb2.DiffResponse.DIFF_NONE,
                diffs=sorted(set(changed) | set(replaces)), replaces=replaces)

        return self.run(context, request, body)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        def body(_secrets: list[str]) -> provider_pb2.ConfigureResponse:
            self.config = read_config(dict(request.variables), reveal(decode(request.args)))
            check_config(self.config)
            return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=False)

        return self.run(context, request, body)

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    # ---- resources ------------------------------------------------------------------------------------
    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        def body(secrets: list[str]) -> provider_pb2.CheckResponse:
            kind = bridge.kind_of(request.type or _type(request.urn))
            news = decode(request.news)
            checked = bridge.check(kind, news)
            if checked.resource is not None:
                with self._lock:
                    self.managed[checked.resource.address] = checked.resource
                    declared = set(self.managed) | self.identities
                if self.config.get("target") == "local":
                    checked.problems += self.local_names().missing(checked.resource, declared)
            elif (identity := bridge.identified(kind, news)) is not None:
                with self._lock:  # checked once the rest is known; declared already for what names it
                    self.identities.add(identity.address)
            for warning in checked.warnings:
                self.log(request.urn, scrub(warning, secrets), engine_pb2.WARNING)
            # property="": the engine would print the whole value; the message already names the field.
            return provider_pb2.CheckResponse(inputs=encode(checked.inputs), failures=[
                provider_pb2.CheckFailure(property="", reason=scrub(p, secrets)) for p in checked.problems])

        return self.run(context, request, body)

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        def body(secrets: list[str]) -> provider_pb2.DiffResponse:
            kind = bridge.kind_of(request.type or _type(request.urn))
            verdict = bridge.compare(kind, decode(request.olds), decode(request.news),
                                     decode(request.old_inputs) if request.HasField("old_inputs") else None)
            for line in verdict.lines:
                self.log(request.urn, scrub(line, secrets))
            detailed = {path: provider_pb2.PropertyDiff(kind=(_REPLACE_KIND if replace else _KIND)[what],
                                                        inputDiff=True)
                        for path, (what, replace) in verdict.detailed.items()}
            changes = provider_pb2.DiffResponse.DIFF_SOME if verdict.changed else provider_pb2.DiffResponse.DIFF_NONE
            return provider_pb2.DiffResponse(
                changes=changes, replaces=sorted(set(verdict.replaces)), deleteBeforeReplace=True,
                diffs=sorted({p.split(".", 1)[0].split("[", 1)[0] for p in verdict.detailed}),
                detailedDiff=detailed, hasDetailedDiff=True)

        return self.run(context, request, body)

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        def body(secrets: list[str]) -> provider_pb2.CreateResponse:
            kind = bridge.kind_of(request.type or _type(request.urn))
            inputs = decode(request.properties)
            if request.preview:
                state = bridge.preview_state(kind, inputs)
                return provider_pb2.CreateResponse(id=str(state.get("address") or ""), properties=encode(state))
            op = self.operation(request.urn, secrets)
            try:
                try:
                    state = bridge.create(op, kind, inputs)
                except SpcsIacError as exc:
                    made = bridge.made_anyway(op, kind, inputs)
                    if made is None:
                        raise
                    init_failed(context, made, scrub(str(exc), secrets))
            finally:
                op.target.close()
            return provider_pb2.CreateResponse(id=state["address"], properties=encode(state))

        return self.run(context, request, body)

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        def body(secrets: list[str]) -> provider_pb2.UpdateResponse:
            kind = bridge.kind_of(request.type or _type(request.urn))
            olds, news = decode(request.olds), decode(request.news)
            old_inputs = decode(request.old_inputs) if request.HasField("old_inputs") else None
            if request.preview:
                return provider_pb2.UpdateResponse(properties=encode(bridge.preview_state(kind, news)))
            op = self.operation(request.urn, secrets)
            try:
                state = bridge.update(op, kind, olds, news, old_inputs)
            finally:
                op.target.close()
            return provider_pb2.UpdateResponse(properties=encode(state))

        return self.run(context, request, body)

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        def body(secrets: list[str]) -> empty_pb2.Empty:
            kind = bridge.kind_of(request.type or _type(request.urn))
            old_inputs = decode(request.old_inputs) if request.HasField("old_inputs") else None
            olds = decode(request.properties)
            try:
                gone = bridge.declared(kind, olds, old_inputs)
            except bridge.BadInputs:
                gone = None
            with self._lock:
                if gone is not None:
                    self.managed[gone.address] = gone
                managed = dict(self.managed)
            op = self.operation(request.urn, secrets)
            try:
                bridge.delete(op, kind, olds, old_inputs, managed=managed,
                              destroy_adopted=bool(self.config.get("destroyAdopted")))
            finally:
                op.target.close()
            return empty_pb2.Empty()

        return self.run(context, request, body)

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:
        def body(secrets: list[str]) -> provider_pb2.ReadResponse:
            kind = bridge.kind_of(request.type or _type(request.urn))
            olds = decode(request.properties)
            old_inputs = decode(request.inputs) if request.HasField("inputs") else None
            op = self.operation(request.urn, secrets)
            try:
                found = bridge.read(op, kind, olds or dict(old_inputs or {}), old_inputs)
            finally:
                op.target.close()
            if found is None:
                return provider_pb2.ReadResponse(id="")  # gone: Pulumi drops it from its state
            state, inputs = found
            return provider_pb2.ReadResponse(id=request.id, properties=encode(state), inputs=encode(inputs))

        return self.run(context, request, body)


class Answered(Exception):  # noqa: N818 - not an error of ours: the RPC ended with the response set
    """The RPC was ended with a response of its own (``init_failed``)."""


class _RichStatus(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[tuple[str, bytes], ...]) -> None:
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def init_failed(context: grpc.ServicerContext, state: dict[str, Any], message: str) -> None:
    """Fail a create whose object exists all the same (half-made): Pulumi records it with this error and
    updates it on the next `pulumi up` (or deletes it on destroy), instead of losing track of it. The error
    carries ``ErrorResourceInitFailed`` as the gRPC status details, as Pulumi's providers send it."""
    from google.protobuf import any_pb2
    from google.rpc import status_pb2

    detail = any_pb2.Any()
    detail.Pack(provider_pb2.ErrorResourceInitFailed(id=str(state["address"]), properties=encode(state),
                                                     reasons=[message]))
    rich = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=message, details=[detail])
    try:
        context.abort_with_status(_RichStatus(grpc.StatusCode.UNKNOWN, message,
                                              (("grpc-status-details-bin", rich.SerializeToString()),)))
    except Exception:  # grpc ends the RPC by raising a bare Exception
        raise Answered() from None


def _type(urn: str) -> str:
    return urn.split("::")[2] if urn.count("::") >= 3 else urn


def main(argv: list[str] | None = None) -> None:
    args = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Servicer(args[0] if args else None), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The engine reads the port from the first line of stdout.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
