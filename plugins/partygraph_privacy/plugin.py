"""The plugin object: hook implementations and the privacy API, delegating to one
module per concern."""

from __future__ import annotations

import atexit
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Table

from partygraph import (
    Context,
    DataDeclaration,
    GraphReader,
    MigrationSource,
    Party,
    PartyRef,
    PartyView,
    RecordType,
    RelationshipType,
    WriteBatch,
    WriteSession,
    hookimpl,
)
from partygraph.schemas import load_schema
from partygraph_privacy import tables
from partygraph_privacy.keys import Keyring, load_secret
from partygraph_privacy.readlog import ReadLog
from partygraph_privacy.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Generator

    from partygraph import Toolkit
    from partygraph_privacy.ledger import Decision

__all__ = ["PrivacyPlugin"]


class _FlushAtExit:
    """Appends a toolkit's buffered read entries at interpreter exit, if it was never
    closed (held weakly: it keeps no toolkit alive)."""

    def __init__(self, plugin: PrivacyPlugin) -> None:
        self._plugin = weakref.ref(plugin)

    def __call__(self) -> None:
        from partygraph_privacy.audit import flush_reads

        plugin = self._plugin()
        if plugin is None:
            return
        try:
            flush_reads(plugin)
        except Exception as error:  # at exit there is no caller left to tell
            warnings.warn(
                f"privacy: {len(plugin.reads)} read audit entries could not be written at "
                f"exit: {type(error).__name__}",
                RuntimeWarning,
                stacklevel=1,
            )


class PrivacyPlugin:
    """The privacy plugin; one instance per toolkit."""

    def __init__(self) -> None:
        self.settings = Settings()
        #: Read-access audit entries not yet appended to the chain.
        self.reads = ReadLog(self.settings.audit_read_batch, self.settings.audit_read_seconds)
        self._toolkit: Toolkit | None = None
        self._keys: Keyring | None = None
        self._at_exit: _FlushAtExit | None = None
        self.key_source: str | None = None
        #: Per purpose, the answer of ``partygraph_permitted`` for a person without a
        #: ledger entry (it depends on the settings alone; see ``ledger._without_entries``).
        self.plain_answers: dict[str, tuple[str | None]] = {}
        from partygraph_privacy.erasure import BUILTIN_MASKING, BUILTIN_MASKING_RESULTS

        #: Masking strategies of this toolkit (the built-ins plus registered ones).
        self.masking_strategies: dict[str, Any] = dict(BUILTIN_MASKING)
        self.masking_results: dict[str, str] = dict(BUILTIN_MASKING_RESULTS)

    # -- state ---------------------------------------------------------------------------

    def __dir__(self) -> list[str]:
        # pluggy finds hook implementations by getattr() on every name dir() lists;
        # leave out the properties that raise until the toolkit is ready.
        return [name for name in super().__dir__() if name not in {"toolkit", "keys"}]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (set once it is ready)."""
        if self._toolkit is None:
            raise RuntimeError("the privacy plugin is not attached to an open toolkit yet")
        return self._toolkit

    @property
    def keys(self) -> Keyring:
        """The keyring of this database."""
        if self._keys is None:
            raise RuntimeError("the privacy plugin is not attached to an open toolkit yet")
        return self._keys

    # -- configuration and vocabulary ------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/privacy")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(settings)
        self.plain_answers = {}
        self.reads = ReadLog(self.settings.audit_read_batch, self.settings.audit_read_seconds)

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        from partygraph_privacy.minors import GUARDIAN_OF

        return [GUARDIAN_OF]

    @hookimpl
    def partygraph_record_types(self) -> Iterable[RecordType]:
        from partygraph_privacy.records import record_types

        return record_types(self)

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        return list(tables.metadata.sorted_tables)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("privacy", Path(__file__).parent / "migrations")

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        from partygraph_privacy.declarations import config_declarations, own_declarations

        # Custom attributes from the config declare themselves in their schema
        # ("x-data-category"); they are known once the toolkit is ready.
        extra = config_declarations(self._toolkit) if self._toolkit is not None else []
        return [*own_declarations(), *extra]

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_privacy.cli import privacy_group

        return [privacy_group]

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        from partygraph_privacy.declarations import check_declarations

        self._toolkit = toolkit
        key, self.key_source = load_secret(self.settings.secret, toolkit.engine)
        self._keys = Keyring(key)
        check_declarations(self)
        self._at_exit = _FlushAtExit(self)
        atexit.register(self._at_exit)

    @hookimpl
    def partygraph_toolkit_closing(self, toolkit: Toolkit) -> None:
        from partygraph_privacy.audit import flush_reads

        if self._toolkit is None:
            return
        at_exit, self._at_exit = self._at_exit, None
        if at_exit is not None:
            atexit.unregister(at_exit)
        flush_reads(self)

    def flush_audit(self) -> None:
        """Append the buffered read entries to the audit chain now."""
        from partygraph_privacy.audit import flush_reads

        flush_reads(self)

    # -- the gate and the audit of writes ------------------------------------------------

    @hookimpl(wrapper=True)
    def partygraph_before_write(
        self, batch: WriteBatch, session: WriteSession
    ) -> Generator[None, None, None]:
        from partygraph_privacy.gate import check_batch

        # The gate judges the batch as the other plugins leave it: a plugin may add
        # derived items (a household ending an old head's membership), and those
        # must pass too.
        result = yield
        check_batch(self, batch, session)
        return result

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        from partygraph_privacy.audit import record_write

        record_write(self, batch, session)

    @hookimpl
    def partygraph_write_failed(self, error: BaseException, context: Context) -> None:
        from partygraph_privacy.audit import record_refusal

        record_refusal(self, error, context)

    # -- reads -------------------------------------------------------------------------

    @hookimpl
    def partygraph_after_read(self, party: Party, action: str, context: Context) -> None:
        from partygraph_privacy.audit import record_read

        record_read(self, party, action, context)

    @hookimpl
    def partygraph_review_view(self, view: PartyView, context: Context) -> PartyView | None:
        from partygraph_privacy.access import redact_view

        return redact_view(self, view, context)

    @hookimpl
    def partygraph_permitted(
        self, parties: Sequence[Party], purpose: str, as_of: datetime, graph: GraphReader
    ) -> Mapping[int, str] | None:
        from partygraph_privacy.ledger import excluded_for_purpose

        return excluded_for_purpose(
            self, parties, purpose, as_of, graph.connection, graph.memo("privacy")
        )

    # -- data subjects -------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> Mapping[str, Any]:
        from partygraph_privacy.requests import subject_export

        return subject_export(self, party, graph.connection)

    @hookimpl
    def partygraph_review_export(
        self, document: Mapping[str, Any], party: Party, context: Context
    ) -> Mapping[str, Any] | None:
        from partygraph_privacy.access import redact_export

        return redact_export(self, document, context)

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        from partygraph_privacy.erasure import erase_in_transaction

        return erase_in_transaction(self, party, session)

    # -- the privacy API: consent ledger ---------------------------------------------------

    def grant(self, party: PartyRef, purpose: str, **fields: Any) -> None:
        """Record a lawful basis (consent by default) for *purpose*; see ``ledger.grant``."""
        from partygraph_privacy import ledger

        ledger.grant(self, party, purpose, **fields)

    def withdraw(self, party: PartyRef, purpose: str, **fields: Any) -> None:
        """Withdraw consent for *purpose* (as easy as granting it)."""
        from partygraph_privacy import ledger

        ledger.withdraw(self, party, purpose, **fields)

    def object(self, party: PartyRef, purpose: str, **fields: Any) -> None:
        """Record an objection (direct marketing, profiling): effective at once."""
        from partygraph_privacy import ledger

        ledger.object_to(self, party, purpose, **fields)

    def opt_out(self, party: PartyRef, **fields: Any) -> None:
        """Record a CCPA opt-out of sale/sharing (``gpc=True`` for a GPC signal)."""
        from partygraph_privacy import ledger

        ledger.opt_out(self, party, **fields)

    def restrict(self, party: PartyRef, **fields: Any) -> None:
        """Restrict processing of the party's data to storage."""
        from partygraph_privacy import ledger

        ledger.restrict(self, party, **fields)

    def lift_restriction(self, party: PartyRef, notice: str, **fields: Any) -> None:
        """Lift a restriction; the notice to the subject must be recorded first."""
        from partygraph_privacy import ledger

        ledger.lift_restriction(self, party, notice, **fields)

    def limit_sensitive(self, party: PartyRef, **fields: Any) -> None:
        """CCPA: limit the use of sensitive data to the expected service."""
        from partygraph_privacy import ledger

        ledger.limit_sensitive(self, party, **fields)

    def can_contact(
        self, party: PartyRef, channel: str, purpose: str, at: datetime | str | None = None
    ) -> Decision:
        """May we contact *party* on *channel* for *purpose* at *at*? With the basis relied on."""
        from partygraph_privacy import ledger

        return ledger.can_contact(self, party, channel, purpose, at)

    def basis(self, party: PartyRef, purpose: str, at: datetime | str | None = None) -> Decision:
        """The lawful basis for processing *party*'s data for *purpose* at *at*, if any."""
        from partygraph_privacy import ledger

        return ledger.basis_for(self, party, purpose, at)

    def ledger_history(self, party: PartyRef) -> list[dict[str, Any]]:
        """Every ledger entry of the party, oldest first."""
        from partygraph_privacy import ledger

        return ledger.history(self, party)

    def register_masking(self, name: str, fn: Any, *, result: str = "pseudonymised") -> None:
        """Add a masking strategy ``fn(plugin, value) -> masked value`` for this toolkit.

        *result* says what it makes of a value: ``"pseudonymised"`` (the default,
        and the honest answer whenever a key, a mapping or a linkage could restore
        it) or ``"anonymised"``.
        """
        from partygraph_privacy.erasure import check_masking_result

        self.masking_results[name] = check_masking_result(result)
        self.masking_strategies[name] = fn

    def register_device(
        self, key: str, *, household: PartyRef | None = None, shared: bool = True
    ) -> None:
        """Declare a device, and whether a household shares it."""
        self.toolkit.write(
            [{"device": {"key": key, "household": household, "shared": shared}}],
            context=Context(source="privacy"),
        )

    # -- the privacy API: data-subject requests ------------------------------------------

    def receive_request(self, party: PartyRef, kind: str, **fields: Any) -> dict[str, Any]:
        """Log a data-subject request with its legal deadline."""
        from partygraph_privacy import requests

        return requests.receive(self, party, kind, **fields)

    def confirm_request(self, request_id: int, at: datetime | str | None = None) -> dict[str, Any]:
        """Record that receipt was confirmed to the subject (CCPA: within 10 business days)."""
        from partygraph_privacy import requests

        return requests.confirm(self, request_id, at)

    def verify_request(
        self, request_id: int, evidence: str, at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Record how the requester's identity was verified; data is released only after."""
        from partygraph_privacy import requests

        return requests.verify(self, request_id, evidence, at)

    def extend_request(
        self, request_id: int, notice_at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Extend the deadline, where the law allows and the notice is in time."""
        from partygraph_privacy import requests

        return requests.extend(self, request_id, notice_at)

    def refuse_request(self, request_id: int, reason: str) -> dict[str, Any]:
        """Refuse a request, with the reason given to the subject."""
        from partygraph_privacy import requests

        return requests.refuse(self, request_id, reason)

    def fulfil_request(self, request_id: int, **fields: Any) -> dict[str, Any]:
        """Carry out a verified request (access export, erasure, restriction ...)."""
        from partygraph_privacy import requests

        return requests.fulfil(self, request_id, **fields)

    def requests(self, party: PartyRef | None = None) -> list[dict[str, Any]]:
        """Requests, of one subject or all, with their deadlines and status."""
        from partygraph_privacy import requests

        return requests.listing(self, party)

    def export(
        self, party: PartyRef, *, context: Context | None = None, path: str | Path | None = None
    ) -> dict[str, Any]:
        """The access/portability document (written to *path* too, if given)."""
        from partygraph_privacy import requests

        return requests.export_document(self, party, context=context, path=path)

    def erase(self, party: PartyRef, *, context: Context | None = None) -> dict[str, Any]:
        """Erase the subject everywhere; return the completeness report."""
        from partygraph_privacy import erasure

        return erasure.erase(self, party, context=context)

    def rectify(
        self,
        party: PartyRef,
        *,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> Party:
        """Correct a subject's data (an audited write like any other)."""
        from partygraph_privacy import requests

        return requests.rectify(self, party, name=name, attributes=attributes, context=context)

    # -- the privacy API: audit, retention, records of processing ------------------------

    def verify_audit(self, anchor: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check the audit chain (and its length against an exported anchor)."""
        from partygraph_privacy import audit

        return audit.verify(self, anchor)

    def audit_anchor(self) -> dict[str, Any]:
        """The chain head and length, to keep elsewhere and verify against later."""
        from partygraph_privacy import audit

        return audit.anchor(self)

    def purge(self, *, dry_run: bool = True, at: datetime | str | None = None) -> dict[str, Any]:
        """Apply retention periods (and expire quarantined records)."""
        from partygraph_privacy import retention

        return retention.purge(self, dry_run=dry_run, at=at)

    def ropa(self) -> dict[str, Any]:
        """Records of processing (GDPR art. 30) from the config and the declarations."""
        from partygraph_privacy import ropa

        return ropa.records_of_processing(self)
