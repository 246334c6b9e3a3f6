"""Signed checkpoints with `vouch audit keygen`, `checkpoint --sign`, and `verify` /
`verify-file --checkpoint-file --public-key`; the catch of a rewritten chain runs them as
real processes, the rest through typer's runner (a process start costs seconds)."""

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Settings
from app.db import Database
from tests.audit import tampering
from tests.support.vouch_process import Ran, run_in_process, run_vouch, vouch_env


@dataclass
class Keyed:
    """A demo database, a key pair and a signed checkpoint of its head."""

    env: dict[str, str]
    folder: Path
    private_key: Path
    public_key: Path
    checkpoint: Path

    def vouch(self, *args: str | Path) -> Ran:
        return run_in_process(self.env, *args)

    def process(self, *args: str | Path) -> Ran:
        return run_vouch(self.env, self.folder, *args)

    @property
    def kept(self) -> dict[str, object]:
        return dict(json.loads(self.checkpoint.read_text()))


@pytest.fixture
def keyed(settings: Settings, tmp_path: Path) -> Keyed:
    keyed = Keyed(
        vouch_env(settings),
        tmp_path,
        tmp_path / "audit.key",
        tmp_path / "audit.key.pub",
        tmp_path / "checkpoint.json",
    )
    assert keyed.vouch("demo").code == 0
    made = keyed.vouch("audit", "keygen", keyed.private_key)
    assert made.code == 0, made.stderr
    signed = keyed.vouch(
        "audit", "checkpoint", "--sign", "--key", keyed.private_key, "-o", keyed.checkpoint
    )
    assert signed.code == 0, signed.stderr
    return keyed


def verify_with(keyed: Keyed, checkpoint: Path | None = None, key: Path | None = None) -> Ran:
    return keyed.vouch(
        "audit", "verify", "--checkpoint-file", checkpoint or keyed.checkpoint,
        "--public-key", key or keyed.public_key,
    )  # fmt: skip


def test_keygen_keeps_the_private_key_to_its_owner_and_never_overwrites(keyed: Keyed) -> None:
    assert stat.S_IMODE(keyed.private_key.stat().st_mode) == 0o600
    assert "PUBLIC KEY" in keyed.public_key.read_text()
    before = keyed.private_key.read_bytes()
    again = keyed.vouch("audit", "keygen", keyed.private_key)
    assert again.code == 2
    assert "refusing to overwrite" in again.stderr
    assert keyed.private_key.read_bytes() == before


def test_a_signed_checkpoint_of_the_head_verifies_the_untouched_chain(keyed: Keyed) -> None:
    kept = keyed.kept
    assert kept["signature"]["algorithm"] == "ed25519"  # type: ignore[index]
    verified = verify_with(keyed)
    assert verified.code == 0, verified.stderr
    assert verified.report["head_seq"] == kept["seq"]
    assert "signature good" in verified.stderr


# Where the rewrite starts, from the checkpoint's seq: the first event, one in the middle,
# the one just before the checkpoint, the checkpointed event itself.
REWRITTEN_FROM = {
    "first": lambda kept: 1,
    "middle": lambda kept: kept // 2,
    "just-before": lambda kept: kept - 1,
    "at-the-checkpoint": lambda kept: kept,
}


@pytest.mark.parametrize("start", list(REWRITTEN_FROM))
def test_a_chain_rewritten_before_the_checkpoint_passes_plain_verify_only(
    keyed: Keyed, db: Database, start: str
) -> None:
    kept_seq = int(keyed.kept["seq"])  # type: ignore[call-overload]
    tampering.rewrite_from(db, REWRITTEN_FROM[start](kept_seq))
    assert keyed.process("audit", "verify").code == 0  # consistent in itself
    caught = keyed.process(
        "audit", "verify", "--checkpoint-file", keyed.checkpoint, "--public-key", keyed.public_key
    )
    assert caught.code == 1
    assert (caught.report["ok"], caught.report["first_bad_seq"]) == (False, kept_seq)
    assert f"BROKEN at seq {kept_seq}" in caught.stderr


@pytest.mark.parametrize("start", list(REWRITTEN_FROM))
def test_an_export_rewritten_before_the_checkpoint_fails_offline_against_it(
    keyed: Keyed, start: str
) -> None:
    export = keyed.folder / "audit.ndjson"
    assert keyed.vouch("audit", "export", "-o", export).code == 0
    kept_seq = int(keyed.kept["seq"])  # type: ignore[call-overload]
    lines = export.read_text().splitlines()
    rewritten = tampering.file_rewrite_from(lines, REWRITTEN_FROM[start](kept_seq))
    export.write_text("\n".join(rewritten) + "\n")
    assert keyed.vouch("audit", "verify-file", export).code == 0  # consistent in itself
    caught = keyed.vouch(
        "audit", "verify-file", export, "--checkpoint-file", keyed.checkpoint,
        "--public-key", keyed.public_key,
    )  # fmt: skip
    assert caught.code == 1
    assert (caught.report["ok"], caught.report["first_bad_seq"]) == (False, kept_seq)


def test_an_untouched_export_verifies_offline_against_the_signed_checkpoint(keyed: Keyed) -> None:
    export = keyed.folder / "audit.ndjson"
    assert keyed.vouch("audit", "export", "-o", export).code == 0
    checked = keyed.vouch(
        "audit", "verify-file", export, "--checkpoint-file", keyed.checkpoint,
        "--public-key", keyed.public_key,
    )  # fmt: skip
    assert checked.code == 0, checked.stderr


@pytest.mark.parametrize("member", ["seq", "hash", "taken_at"])
def test_a_checkpoint_file_edited_after_signing_is_rejected_before_the_chain_is_read(
    keyed: Keyed, member: str
) -> None:
    doc = keyed.kept
    doc[member] = {"seq": 1, "hash": "a" * 64, "taken_at": "2020-01-01T00:00:00.000000Z"}[member]
    keyed.checkpoint.write_text(json.dumps(doc))
    rejected = verify_with(keyed)
    assert rejected.code == 1
    assert "checkpoint REJECTED" in rejected.stderr
    assert rejected.stdout == ""  # no verdict on the chain from a checkpoint not trusted


def test_a_checkpoint_checked_with_another_key_is_rejected(keyed: Keyed) -> None:
    other = keyed.folder / "other.key"
    assert keyed.vouch("audit", "keygen", other).code == 0
    rejected = verify_with(keyed, key=keyed.folder / "other.key.pub")
    assert rejected.code == 1
    assert "does not verify with public key" in rejected.stderr


def test_a_signed_checkpoint_needs_the_public_key_to_be_used(keyed: Keyed) -> None:
    refused = keyed.vouch("audit", "verify", "--checkpoint-file", keyed.checkpoint)
    assert refused.code == 2
    assert "give --public-key" in refused.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "verify", "--checkpoint-file", "missing.json", "--public-key", "audit.key.pub"),
        ("audit", "verify", "--checkpoint-file", "checkpoint.json", "--public-key", "missing.pub"),
        ("audit", "checkpoint", "--sign", "--key", "missing.key"),
        ("audit", "verify-file", "audit.key", "--checkpoint-file", "missing.json"),
    ],
    ids=["checkpoint file", "public key", "private key", "offline checkpoint file"],
)
def test_a_missing_file_is_named_with_exit_2(keyed: Keyed, args: tuple[str, ...]) -> None:
    missing = keyed.vouch(*(keyed.folder / a if "." in a else a for a in args))
    assert missing.code == 2
    assert "error:" in missing.stderr and "missing" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_public_key_given_as_the_private_key_is_refused(keyed: Keyed) -> None:
    refused = verify_with(keyed, key=keyed.private_key)
    assert refused.code == 2
    assert "not a PEM public key" in refused.stderr


def test_an_unsigned_checkpoint_file_is_a_plain_checkpoint(keyed: Keyed) -> None:
    plain = keyed.folder / "plain.json"
    assert keyed.vouch("audit", "checkpoint", "-o", plain).code == 0
    assert "signature" not in json.loads(plain.read_text())
    assert keyed.vouch("audit", "verify", "--checkpoint-file", plain).code == 0
    checked = keyed.vouch(
        "audit", "verify", "--checkpoint-file", plain, "--public-key", keyed.public_key
    )
    assert checked.code == 1
    assert "is not signed" in checked.stderr


def test_sign_without_a_key_is_refused(keyed: Keyed) -> None:
    refused = keyed.vouch("audit", "checkpoint", "--sign")
    assert refused.code == 2
    assert "--sign and --key go together" in refused.stderr
