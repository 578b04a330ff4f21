"""``partygraph privacy ...`` run the way users run it: exit codes, messages, --json output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from partygraph.cli import main

WORLD = [
    {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau",
               "attributes": {"email": "alice@example.org", "phone": "+33 6 12 34 56 78"}}},
    {"party": {"key": "bob", "kind": "person", "name": "Bob Moreau"}},
    {"party": {"key": "acme", "kind": "organization", "name": "Acme Ltd"}},
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    """A project folder whose config enables the privacy plugin on the test database."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n[plugins]\nenabled = ["privacy"]\n'
    )
    world = folder / "world.jsonl"
    world.write_text("".join(json.dumps(record) + "\n" for record in WORLD))
    assert main(["import", str(world)]) == 0
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["privacy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_consent_is_granted_withdrawn_and_shown(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "consent", "grant", "alice", "marketing", "--channel", "email",
        "--at", "2026-01-10", "--source", "web form", "--evidence", "form #12",
    )  # fmt: skip
    assert code == 0, err
    assert "granted consent for marketing on email to alice" in out
    decision = run_json(capsys, "can-contact", "alice", "email", "marketing")
    assert decision["allowed"] is True
    assert decision["basis"] == "consent"

    code, out, _ = run(capsys, "consent", "withdraw", "alice", "marketing", "--channel", "email")
    assert code == 0
    decision = run_json(capsys, "can-contact", "alice", "email", "marketing")
    assert decision["allowed"] is False
    assert "withdrawn" in decision["reason"]
    # Billing rests on the contract: the withdrawal does not stop it.
    code, out, _ = run(capsys, "can-contact", "alice", "email", "billing")
    assert (code, out.startswith("yes (basis: contract): ")) == (0, True)

    entries = run_json(capsys, "consent", "show", "alice")
    assert [(e["action"], e["channel"], e["source"]) for e in entries] == [
        ("grant", "email", "web form"),
        ("withdraw", "email", None),
    ]
    code, out, _ = run(capsys, "consent", "show", "bob")
    assert out.strip() == "no ledger entries"


def test_objection_opt_out_and_restriction(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "consent", "grant", "alice", "profiling", "--at", "2026-01-01")[0] == 0
    code, out, _ = run(capsys, "object", "alice", "profiling")
    assert (code, out.strip()) == (0, "recorded alice's objection to profiling")
    assert run_json(capsys, "can-contact", "alice", "email", "profiling")["allowed"] is False

    code, out, _ = run(capsys, "opt-out", "alice", "--gpc")
    assert code == 0
    assert "Global Privacy Control" in out
    decision = run_json(capsys, "can-contact", "alice", "email", "sale_or_sharing")
    assert decision["allowed"] is False
    assert "Global Privacy Control" in decision["reason"]

    code, _, err = run(capsys, "lift-restriction", "bob")
    assert code == 2
    assert "--notice" in err
    assert run(capsys, "restrict", "bob", "--reason", "accuracy contested")[0] == 0
    assert run_json(capsys, "can-contact", "bob", "email", "billing")["allowed"] is False
    code, _, _ = run(capsys, "lift-restriction", "bob", "--notice", "told by email on 2026-04-01")
    assert code == 0
    assert run_json(capsys, "can-contact", "bob", "email", "billing")["allowed"] is True
    actions = [entry["action"] for entry in run_json(capsys, "consent", "show", "bob")]
    assert actions == ["restrict", "lift_restriction"]


def test_rectify_and_bad_input(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    party = run_json(capsys, "rectify", "alice", "--name", "Alice Diaz", "--set", "phone=+1 555")
    assert party["name"] == "Alice Diaz"
    assert party["attributes"] == {"email": "alice@example.org", "phone": "+1 555"}

    code, _, err = run(capsys, "rectify", "alice", "--set", "phone")
    assert (code, err.strip()) == (2, "error: --set: expected key=value, got 'phone'")
    code, _, err = run(capsys, "rectify", "alice")
    assert code == 2
    assert "corrected name or attributes" in err
    code, _, err = run(capsys, "consent", "grant", "nobody", "marketing")
    assert code == 2
    assert "no party with key or id 'nobody'" in err
    code, _, err = run(capsys, "consent", "grant", "alice", "telepathy")
    assert code == 2
    assert "telepathy" in err
    code, _, err = run(capsys, "request", "receive", "alice", "forget")
    assert code == 2
    assert "unknown request kind 'forget'" in err
    code, _, err = run(capsys, "request", "verify", "x", "--evidence", "id card")
    assert code == 2
    code, _, err = run(capsys, "request", "verify", "999", "--evidence", "id card")
    assert code == 2
    assert "no data-subject request with id 999" in err


def test_requests_wait_for_verification_and_keep_their_deadlines(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = run_json(
        capsys, "request", "receive", "alice", "access", "--received-at", "2026-01-31"
    )
    assert request["due_at"] == "2026-02-28T00:00:00Z"
    ccpa = run_json(
        capsys, "request", "receive", "bob", "erasure", "--received-at", "2026-01-02",
        "--jurisdiction", "CCPA",
    )  # fmt: skip
    assert (ccpa["confirm_by"], ccpa["due_at"]) == ("2026-01-16T00:00:00Z", "2026-02-16T00:00:00Z")

    number = str(request["id"])
    code, out, err = run(capsys, "request", "fulfil", number)
    assert code == 2
    assert out == ""
    assert f"request {number} is not verified; data is released only after verification" in err

    code, _, err = run(capsys, "request", "extend", number, "--notice-at", "2026-03-02")
    assert code == 2
    assert "too late" in err
    extended = run_json(capsys, "request", "extend", number, "--notice-at", "2026-02-27")
    assert extended["due_at"] == "2026-04-30T00:00:00Z"

    code, out, _ = run(capsys, "request", "list")
    assert code == 0
    assert f"#{number} access (GDPR)" in out
    assert "unverified" in out
    assert "OVERDUE" in out  # 2026-04-30 is past: the deadline ran while it waited

    assert run(capsys, "request", "verify", number, "--evidence", "id card seen")[0] == 0
    done = run_json(capsys, "request", "fulfil", number)
    assert done["request"]["status"] == "completed"
    assert done["result"]["party"]["key"] == "alice"
    assert done["result"]["plugins"]["privacy"]["requests"][0]["id"] == request["id"]

    code, _, _ = run(capsys, "request", "refuse", str(ccpa["id"]), "--reason", "legal hold")
    assert code == 0
    listed = run_json(capsys, "request", "list", "bob")
    assert [(item["status"], item["outcome"]) for item in listed] == [("refused", "legal hold")]


def test_export_then_erase_prints_the_completeness_report(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "consent", "grant", "alice", "marketing")[0] == 0
    code, out, _ = run(capsys, "export", "alice")
    document = json.loads(out)
    assert document["party"]["attributes"]["email"] == "alice@example.org"
    assert document["plugins"]["privacy"]["ledger"][0]["action"] == "grant"
    target = workdir / "alice-export.json"
    code, out, _ = run(capsys, "export", "alice", "--output", str(target))
    assert code == 0
    assert out.startswith(f"wrote {target}")
    assert json.loads(target.read_text())["party"]["key"] == "alice"

    code, out, err = run(capsys, "erase", "alice")
    assert code == 0, err
    assert "residual hits in tables: 0" in out
    assert "completeness: PASS" in out
    for identifier in ("alice", "Alice Moreau", "alice@example.org", "+33 6 12 34 56 78"):
        assert identifier not in out
    assert not target.exists()

    report = run_json(capsys, "erase", "bob")
    assert report["residual_hits"] == []
    assert report["passed"] is True
    assert report["deleted"]["party"] == 1
    code, _, err = run(capsys, "export", "alice")
    assert code == 2
    assert "no party" in err
    capsys.readouterr()
    assert main(["import", str(workdir / "world.jsonl")]) == 2
    assert "erased" in capsys.readouterr().err  # erased keys are refused on re-import


def test_verify_audit_detects_tampering_and_truncation(
    workdir: Path, capsys: pytest.CaptureFixture[str], partygraph_database_url: str
) -> None:
    assert run(capsys, "consent", "grant", "alice", "marketing")[0] == 0
    assert run(capsys, "restrict", "bob")[0] == 0
    code, out, _ = run(capsys, "verify-audit")
    assert code == 0
    assert out.startswith("audit log intact")
    anchor = workdir / "anchor.json"
    code, out, _ = run(capsys, "audit-anchor", "--output", str(anchor))
    assert code == 0
    length = json.loads(anchor.read_text())["length"]
    assert length >= 3
    assert run(capsys, "verify-audit", "--anchor", str(anchor))[0] == 0

    engine = sa.create_engine(partygraph_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM privacy_audit WHERE seq = :n"), {"n": length})
        code, _, err = run(capsys, "verify-audit", "--anchor", str(anchor))
        assert code == 2
        assert "truncated" in err
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE privacy_audit SET action = 'read' WHERE seq = 2"))
    finally:
        engine.dispose()
    code, out, err = run(capsys, "verify-audit")
    assert (code, out) == (2, "")
    assert "audit log tampered with (edited) at entry 2" in err


def test_verify_audit_exit_status_with_json(
    workdir: Path, capsys: pytest.CaptureFixture[str], partygraph_database_url: str
) -> None:
    engine = sa.create_engine(partygraph_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE privacy_audit SET action = 'x' WHERE seq = 1"))
    finally:
        engine.dispose()
    code, out, err = run(capsys, "verify-audit", "--json")
    assert code == 2
    assert json.loads(out)["first_bad_seq"] == 1
    assert "entry 1" in err
    code, _, err = run(capsys, "verify-audit", "--anchor", "missing.json")
    assert (code, err.strip()) == (2, "error: missing.json: no such file")


def test_purge_and_records_of_processing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "purge")
    assert result["dry_run"] is True
    assert result["total"] == 0
    code, out, _ = run(capsys, "purge", "--apply")
    assert code == 0
    assert "total: deleted 0" in out
    records = run_json(capsys, "ropa")
    purposes = {entry["purpose"]: entry for entry in records["purposes"]}
    assert purposes["marketing"]["lawful_bases"] == ["consent"]
    code, out, _ = run(capsys, "ropa")
    assert "marketing: Direct marketing." in out
    assert "  lawful bases: consent" in out
