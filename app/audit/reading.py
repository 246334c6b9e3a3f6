"""Reading the chain fast, as the text the database stores.

Verification and export read events as text: `payload` and `actor_roles` as
their stored JSON, `occurred_at` already formatted by the database in the
chain's one time format. Nothing is parsed into Python objects only to be
serialised again, which is most of the cost of walking a long chain.

Since `CanonicalJSON` stores the JSON in canonical form, the canonical bytes of
an event can be assembled from its stored text (`stored_hash`). A match with
the stored hash is proof by SHA-256 that the row holds what was hashed: both
JSON texts are known to be valid (PostgreSQL's `json` type refuses anything
else; SQLite is asked with `json_valid`), and an object or array text ends at
its own closing bracket, so no text can spill into the next field. Anything
else (a row stored before canonical storage, or one altered) is decided by
`event_hash` over the typed row, exactly as offline verification decides it.
"""

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring as _string  # the C encoder, as json.dumps uses
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Engine,
    Row,
    Text,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from app.audit.chain import HASHED_FIELDS, event_hash
from app.audit.models import AuditEvent

_EVENTS = AuditEvent.__table__
_NAMES = (*HASHED_FIELDS, "hash")  # the order of `stored_columns`, and of an exported line
_PG_TIME = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'  # what `format_timestamp` writes


def stored_columns(dialect: Dialect) -> list[ColumnElement[Any]]:
    """Every column of an event as stored text, and whether both JSON texts are valid."""
    c = _EVENTS.c
    if dialect.name == "postgresql":
        occurred: ColumnElement[Any] = func.to_char(func.timezone("UTC", c.occurred_at), _PG_TIME)
        valid: ColumnElement[Any] = literal(True)
    else:
        # SQLite holds `2026-01-02 03:04:05.000006` for a UTC time (see UTCDateTime).
        occurred = func.replace(cast(c.occurred_at, Text), " ", "T").concat("Z")
        valid = func.json_valid(c.payload) & func.json_valid(c.actor_roles)
    return [
        c.seq,
        occurred.label("occurred_at"),
        c.actor_id,
        c.actor_username,
        cast(c.actor_roles, Text).label("actor_roles"),
        c.action,
        c.outcome,
        c.target_type,
        c.target_id,
        c.request_id,
        c.client_ip,
        c.user_agent,
        cast(c.payload, Text).label("payload"),
        c.prev_hash,
        c.hash,
        valid.label("json_valid"),
    ]


def fetch_stored(
    conn: Connection | Session,
    *,
    after: int,
    through: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> Sequence[Row[Any]]:
    """The events with `after < seq <= through` matching `where`, as stored text, in order.

    Callers read a long chain as windows of seqs rather than with LIMIT: a
    window bounds the rows a query can touch whatever plan the database picks
    (with stale statistics PostgreSQL sorts the whole remaining range for a
    LIMIT query, which makes a walk quadratic).
    """
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    query = (
        select(*stored_columns(bind.dialect))
        .where(_EVENTS.c.seq > after, _EVENTS.c.seq <= through, *where)
        .order_by(_EVENTS.c.seq)
    )
    return conn.execute(query).all()


def windows(
    engine: Engine,
    *,
    first: int,
    last: int,
    size: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> Iterator[Sequence[Row[Any]]]:
    """The stored events with `first <= seq <= last` matching `where`, window by window.

    Each window is read on a connection of its own, given back at once, and the
    next one is read on a worker thread while the caller works on the current
    one, so the database's time and ours overlap. A caller that stops early
    (a client leaving mid-export) leaves at most the one read in flight, which
    finishes and gives its connection back: no transaction stays open.
    """

    def read(after: int) -> Sequence[Row[Any]]:
        with engine.connect() as conn:
            return fetch_stored(conn, after=after, through=min(after + size, last), where=where)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-read") as reader:
        ahead: Future[Sequence[Row[Any]]] | None = None
        for after in range(first - 1, last, size):
            following = reader.submit(read, after)
            if ahead is not None:
                yield ahead.result()
            ahead = following
        if ahead is not None:
            yield ahead.result()


def _spliceable(
    seq: Any, occurred_at: Any, actor_id: Any, roles: Any, payload: Any, valid: Any
) -> bool:
    """Whether splicing a stored row yields exactly the JSON tokens serialising it would.

    SQLite stores whatever it is given, so a row written behind the product's
    back may hold text in an integer column, a quote in a time, or JSON that
    does not parse; such a row is never spliced.
    """
    return bool(
        valid
        and type(seq) is int
        and (actor_id is None or type(actor_id) is int)
        and type(occurred_at) is str
        and '"' not in occurred_at
        and "\\" not in occurred_at
        and type(payload) is str
        and payload[:1] == "{"
        and type(roles) is str
        and roles[:1] == "["
    )


def stored_hash(row: Sequence[Any]) -> str | None:
    """SHA-256 of the canonical bytes assembled from a stored row; None when they cannot be."""
    (seq, occurred_at, actor_id, username, roles, action, outcome, target_type, target_id,
     request_id, client_ip, user_agent, payload, prev_hash, _hash, valid) = row  # fmt: skip
    if not _spliceable(seq, occurred_at, actor_id, roles, payload, valid):
        return None
    # The keys in sorted order, as `canonical_bytes` writes them; null checks are
    # inline because a function call per field costs a third of the time here.
    n = "null"
    try:
        doc = (
            f'{{"action":{_string(action)},"actor_id":{n if actor_id is None else actor_id},'
            f'"actor_roles":{roles},'
            f'"actor_username":{n if username is None else _string(username)},'
            f'"client_ip":{n if client_ip is None else _string(client_ip)},'
            f'"occurred_at":"{occurred_at}","outcome":{_string(outcome)},"payload":{payload},'
            f'"prev_hash":{_string(prev_hash)},'
            f'"request_id":{n if request_id is None else _string(request_id)},"seq":{seq},'
            f'"target_id":{n if target_id is None else _string(target_id)},'
            f'"target_type":{n if target_type is None else _string(target_type)},'
            f'"user_agent":{n if user_agent is None else _string(user_agent)}}}'
        )
    except TypeError:  # a text column holding something else
        return None
    return hashlib.sha256(doc.encode()).hexdigest()


def walk(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """What the chain walk needs of each stored row: seq, links, and whether it hashed."""
    return [
        {
            "seq": row[0],
            "prev_hash": row[13],
            "hash": row[14],
            "hashed": stored_hash(row) == row[14],
        }
        for row in rows
    ]


def is_authentic(session: Session | Connection, event: Mapping[str, Any]) -> bool:
    """Whether a stored event hashes to its `hash` (see the module docstring).

    When its stored text did not hash (`walk`), the typed row decides, with
    `event_hash`, exactly as offline verification would.
    """
    if event["hashed"]:
        return True
    typed = session.execute(select(_EVENTS).where(_EVENTS.c.seq == event["seq"]))
    try:
        row = typed.one()._asdict()
        return bool(event_hash(row) == row["hash"])
    except (ValueError, TypeError):  # a value that does not even read back: not what was hashed
        return False


def csv_values(row: Sequence[Any]) -> list[Any]:
    """One CSV row: the hashed fields and `hash`, JSON as stored, empty for null."""
    return list(row[:-1])


def export_line(row: Sequence[Any]) -> str:
    """One NDJSON line: the hashed fields and `hash`, JSON spliced in as stored."""
    (seq, occurred_at, actor_id, username, roles, action, outcome, target_type, target_id,
     request_id, client_ip, user_agent, payload, prev_hash, hash_, valid) = row  # fmt: skip
    if not _spliceable(seq, occurred_at, actor_id, roles, payload, valid):
        return _plain_line(row)
    n = "null"
    try:
        return (
            f'{{"seq":{seq},"occurred_at":"{occurred_at}",'
            f'"actor_id":{n if actor_id is None else actor_id},'
            f'"actor_username":{n if username is None else _string(username)},'
            f'"actor_roles":{roles},"action":{_string(action)},"outcome":{_string(outcome)},'
            f'"target_type":{n if target_type is None else _string(target_type)},'
            f'"target_id":{n if target_id is None else _string(target_id)},'
            f'"request_id":{n if request_id is None else _string(request_id)},'
            f'"client_ip":{n if client_ip is None else _string(client_ip)},'
            f'"user_agent":{n if user_agent is None else _string(user_agent)},'
            f'"payload":{payload},"prev_hash":{_string(prev_hash)},"hash":{_string(hash_)}}}\n'
        )
    except TypeError:
        return _plain_line(row)


def _plain_line(row: Sequence[Any]) -> str:
    """The line of a row that cannot be spliced: every value as it reads, as JSON.

    The export still holds the row as stored; verifying the file names it.
    """
    event = dict(zip(_NAMES, row, strict=False))
    for name in ("actor_roles", "payload"):
        with contextlib.suppress(TypeError, ValueError):  # kept as the text it is otherwise
            event[name] = json.loads(event[name])
    return json.dumps(event, ensure_ascii=False, default=str) + "\n"
