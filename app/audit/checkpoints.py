"""Checkpoint files: the chain's head written down, signed with an Ed25519 key kept
outside the database, and read back (signature first) to verify against.

A file is one JSON object:

    {"format": "vouch-audit-checkpoint", "version": 1, "seq": 41, "hash": "…",
     "occurred_at": "2026-01-02T03:04:05.000006Z", "taken_at": "…",
     "signature": {"algorithm": "ed25519", "key_id": "…", "value": "<base64>"}}

The signature covers the canonical JSON (`app/audit/chain.py`) of every member but
`signature`, so changing any of them, or signing with another key, fails the check.
An unsigned checkpoint (no `signature`) is the same object without it.
"""

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit.chain import canonical_json, format_timestamp
from app.audit.service import Checkpoint
from app.db import utcnow

FORMAT = "vouch-audit-checkpoint"
VERSION = 1
ALGORITHM = "ed25519"
_MEMBERS = {"format", "version", "seq", "hash", "occurred_at", "taken_at"}


class CheckpointFileError(ValueError):
    """A key or checkpoint file that is missing, unreadable or not what it should be."""


class SignatureMismatch(ValueError):
    """A checkpoint whose signature does not verify with the given public key."""


@dataclass(frozen=True)
class KeptCheckpoint:
    """A checkpoint read back from its file; `key_id` is None when it was not signed."""

    seq: int
    hash: str
    occurred_at: str | None
    taken_at: str
    key_id: str | None

    @property
    def against(self) -> tuple[int, str]:
        """What `verify_chain(against=...)` takes."""
        return self.seq, self.hash


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of SHA-256 over its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keys(private_path: Path, public_path: Path) -> str:
    """Write a new key pair: the private key PEM (PKCS #8) readable by its owner only, the
    public key PEM beside it. Refuses to overwrite either file; returns the key id."""
    for path in (private_path, public_path):
        if path.exists():
            raise CheckpointFileError(f"{path} exists; refusing to overwrite a key")
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # O_EXCL: a file appearing between the check and here is not overwritten either.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(public_pem)
    return key_id(private.public_key())


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CheckpointFileError(f"{what} {path} not found") from None
    except OSError as exc:
        raise CheckpointFileError(f"{what} {path} cannot be read: {exc.strerror}") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "private key"), password=None)
    except (ValueError, TypeError):
        raise CheckpointFileError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointFileError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except ValueError:
        raise CheckpointFileError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointFileError(f"{path} is not an Ed25519 public key")
    return key


def _signed_bytes(doc: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in doc.items() if k != "signature"}).encode()


def render(
    checkpoint: Checkpoint, key: Ed25519PrivateKey | None = None, taken_at: datetime | None = None
) -> str:
    """The checkpoint file's text: the head, signed with `key` when given."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "occurred_at": (
            format_timestamp(checkpoint.occurred_at) if checkpoint.occurred_at else None
        ),
        "taken_at": format_timestamp(taken_at or utcnow()),
    }
    if key is not None:
        value = base64.b64encode(key.sign(_signed_bytes(doc))).decode()
        doc["signature"] = {
            "algorithm": ALGORITHM,
            "key_id": key_id(key.public_key()),
            "value": value,
        }
    return json.dumps(doc, indent=2) + "\n"


def read(path: Path, public_key: Ed25519PublicKey | None = None) -> KeptCheckpoint:
    """The checkpoint in `path`. With `public_key` the file must be signed by it: its
    signature is checked before anything in it is used (SignatureMismatch otherwise)."""
    text = _read(path, "checkpoint file")
    try:
        doc = json.loads(text)
    except ValueError:
        raise CheckpointFileError(f"{path} is not a checkpoint file (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointFileError(f"{path} is not a checkpoint file")
    if doc.get("version") != VERSION:
        raise CheckpointFileError(f"{path}: checkpoint version {doc.get('version')!r} unknown")
    signature = doc.get("signature")
    if public_key is not None:
        if signature is None:
            raise SignatureMismatch(f"{path} is not signed")
        _check_signature(path, doc, signature, public_key)
    if set(doc) - {"signature"} != _MEMBERS:
        raise CheckpointFileError(f"{path}: unexpected or missing members")
    seq, hash_ = doc["seq"], doc["hash"]
    if type(seq) is not int or seq < 0 or not isinstance(hash_, str) or len(hash_) != 64:
        raise CheckpointFileError(f"{path}: seq or hash malformed")
    signed_by = signature.get("key_id") if isinstance(signature, dict) else None
    return KeptCheckpoint(seq, hash_, doc["occurred_at"], doc["taken_at"], signed_by)


def _check_signature(
    path: Path, doc: dict[str, Any], signature: Any, public_key: Ed25519PublicKey
) -> None:
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        raise SignatureMismatch(f"{path}: signature missing or not {ALGORITHM}")
    try:
        value = base64.b64decode(str(signature.get("value")), validate=True)
        public_key.verify(value, _signed_bytes(doc))
    except (InvalidSignature, binascii.Error):
        expected = key_id(public_key)
        raise SignatureMismatch(
            f"{path}: the signature does not verify with public key {expected} "
            f"(the file was changed, or signed with another key: "
            f"{signature.get('key_id')!r})"
        ) from None
