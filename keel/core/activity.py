"""Recording activities: the one tamper-evident history of every change of state.

`record()` is called by services inside the transaction that makes the change. It appends
to the company's hash chain (locking the chain head, so concurrent writers queue and the
chain never forks), writes one delivery per subscribed handler, and schedules their
dispatch for after commit. `verify_chain()` walks a chain and names the first row whose
content or link was altered or deleted.

Hash versions: every row says which canonical form its hash covers (`hash_version`).
Version 1 (rows recorded before versions existed) covers every column but `department`
and the version; version 2 covers every column but the surrogate `id`: the version itself,
company, seq, time, actor, verb, department, subject, data and the previous hash. Old rows
keep verifying under their version; `department` is checked on every row against the verb
it derives from, so it cannot be changed on version-1 rows either. Versions never go down
along a chain, so a forger cannot move a new row back to the older form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

from keel.core.models import Activity, ActivityChainHead, Company

GENESIS_HASH = "0" * 64
HASH_VERSION = 2  # the canonical form new activities are hashed with


def subject_label(obj: models.Model | type[models.Model]) -> str:
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}"


def normalize_data(value: Any) -> Any:
    """Reduce data to what JSON stores exactly on every database: no floats, no Decimals.

    Decimals and floats become strings, dates ISO strings; so the hash computed when
    recording equals the hash recomputed from what the database gives back.
    """
    if isinstance(value, dict):
        return {str(k): normalize_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [normalize_data(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def department_of(verb: str) -> str:
    """The department an activity belongs to: its verb's prefix (`ledger.entry_posted`)."""
    return verb.split(".", 1)[0]


def canonical_bytes(
    *,
    hash_version: int = HASH_VERSION,
    department: str | None = None,
    company_id: int,
    seq: int,
    occurred_at: dt.datetime,
    actor_id: int | None,
    verb: str,
    subject_type: str,
    subject_id: str,
    subject_repr: str,
    data: Any,
    prev_hash: str,
) -> bytes:
    """The canonical encoding hashed into the chain, in the form of `hash_version`.

    Changing a form invalidates every chain: add a version instead (and teach
    `_payload` and `verify_chain` to read it).
    """
    if department is None:
        department = department_of(verb)
    payload = _payload(
        hash_version, company_id, seq, _timestamp(occurred_at), actor_id, verb, department, subject_type,
        subject_id, subject_repr, data, prev_hash,
    )
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _payload(version, company_id, seq, timestamp, actor_id, verb, department, s_type, s_id, s_repr, data, prev):
    if version == 1:
        return [company_id, seq, timestamp, actor_id, verb, s_type, s_id, s_repr, data, prev]
    if version == 2:
        return [2, company_id, seq, timestamp, actor_id, verb, department, s_type, s_id, s_repr, data, prev]
    raise ValueError(f"unknown activity hash version {version}")


def chain_hash(**fields: Any) -> str:
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What a caller knows about one activity to record (bulk form of `record`)."""

    verb: str
    subject: models.Model | None = None
    subject_type: str = ""
    subject_id: str = ""
    subject_repr: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime | None = None


def _lock_head(company: Company) -> ActivityChainHead:
    head = ActivityChainHead.objects.select_for_update().filter(company=company).first()
    if head is None:
        ActivityChainHead.objects.get_or_create(company=company, defaults={"last_hash": GENESIS_HASH})
        head = ActivityChainHead.objects.select_for_update().get(company=company)
    return head


def record(
    *,
    company: Company,
    actor,
    verb: str,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    subject_repr: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> Activity:
    """Record one activity in the current transaction and schedule its handlers."""
    [activity] = record_many(
        company=company,
        actor=actor,
        entries=[Entry(verb, subject, subject_type, subject_id, subject_repr, data or {}, occurred_at)],
    )
    return activity


def record_many(*, company: Company, actor, entries: Sequence[Entry]) -> list[Activity]:
    """Append many activities with one lock and one INSERT per batch (bulk paths, imports)."""
    from keel.core import events

    if not entries:
        return []
    actor_id = getattr(actor, "pk", None)
    with transaction.atomic():
        head = _lock_head(company)
        seq, prev = head.last_seq, head.last_hash
        now = timezone.now()
        rows: list[Activity] = []
        for entry in entries:
            if entry.subject is not None:
                s_type, s_id = subject_label(entry.subject), str(entry.subject.pk)
                s_repr = entry.subject_repr or str(entry.subject)[:200]
            else:
                s_type, s_id, s_repr = entry.subject_type, str(entry.subject_id), entry.subject_repr[:200]
            if not s_type or not s_id:
                raise ValueError(f"Activity {entry.verb} needs a subject")
            seq += 1
            occurred = entry.occurred_at or now
            data = normalize_data(entry.data)
            department = department_of(entry.verb)
            digest = chain_hash(
                hash_version=HASH_VERSION, department=department,
                company_id=company.pk, seq=seq, occurred_at=occurred, actor_id=actor_id, verb=entry.verb,
                subject_type=s_type, subject_id=s_id, subject_repr=s_repr, data=data, prev_hash=prev,
            )
            rows.append(
                Activity(
                    company=company, seq=seq, occurred_at=occurred, actor_id=actor_id, verb=entry.verb,
                    department=department, subject_type=s_type, subject_id=s_id,
                    subject_repr=s_repr, data=data, prev_hash=prev, hash=digest, hash_version=HASH_VERSION,
                )
            )
            prev = digest
        created = Activity.objects.bulk_create(rows, batch_size=2000)
        ActivityChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev)
        if created and created[0].pk is None:  # backends that return no ids on bulk insert
            created = list(
                Activity.objects.filter(company=company, seq__gt=head.last_seq).order_by("seq")
            )
        events.schedule_deliveries(company, created)
    return created


@dataclass
class ChainReport:
    company_id: int
    checked: int = 0
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""
    last_seq: int = 0  # the last activity checked and its hash (where an anchor may be set)
    last_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem


# verify_chain is the hot path of `keel audit verify` (and of a million-row chain): it reads
# plain rows with one SQL statement per key-set page, takes the timestamp already formatted
# by the database where it can, and reuses one JSON scanner and one encoder, whose output is
# exactly `canonical_bytes()` (a test compares them on every engine).
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
try:
    from json.encoder import c_make_encoder as _c_make_encoder
    from json.encoder import encode_basestring as _encode_basestring
    from json.scanner import c_make_scanner as _c_make_scanner
except ImportError:  # pragma: no cover - CPython always has the C accelerators
    _c_make_encoder = _c_make_scanner = None


def _canonical_encoder():
    """A function payload -> canonical JSON text, identical to canonical_bytes()'s json.dumps."""
    if _c_make_encoder is None:  # pragma: no cover
        return _CANONICAL_ENCODER.encode
    encode = _c_make_encoder(
        None, _CANONICAL_ENCODER.default, _encode_basestring, None, ":", ",", True, False, True
    )
    return lambda payload: "".join(encode(payload, 0))


def _json_decoder():
    """A function JSON text -> value; refuses trailing text exactly as json.loads does."""
    scan = _c_make_scanner(json.JSONDecoder()) if _c_make_scanner is not None else None

    def decode(text):
        if not isinstance(text, str):  # a driver that decodes JSON itself
            return text
        if scan is not None:
            try:
                value, end = scan(text, 0)
                if end == len(text):
                    return value
            except StopIteration:
                pass
        return json.loads(text)

    return decode


def _timestamp_sql(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    if vendor == "sqlite":
        # Django stores aware datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'; CAST keeps
        # the driver from converting it back to a datetime.
        return f"CAST({column} AS TEXT)"
    return column


def _timestamp_text(vendor: str):
    """A function turning what _timestamp_sql selected into the canonical UTC timestamp."""
    if vendor == "postgresql":
        return lambda value: value
    if vendor == "sqlite":
        def from_sqlite(value: str) -> str:
            if len(value) == 19:  # no fraction stored when microseconds are 0
                return f"{value[:10]}T{value[11:]}.000000Z"
            if len(value) == 26 and value[10] == " ":
                return f"{value[:10]}T{value[11:]}Z"
            return _timestamp(dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC))
        return from_sqlite
    return lambda value: _timestamp(value if value.tzinfo else value.replace(tzinfo=dt.UTC))


def _rows(company_id: int, chunk: int, after: int = 0) -> Iterator[tuple]:
    # Key-set pages on (company, seq), bounded above as well: seq has no gaps in an intact
    # chain, so `seq > last AND seq <= last + chunk` is one page, read by the unique index
    # whatever the planner's statistics say (right after a bulk load they say "40 rows", and
    # an open-ended `seq > last` page then sorts the rest of the chain every time). An empty
    # range means the end, or deleted rows: the open-ended query tells which.
    connection = connections[router.db_for_read(Activity)]
    quote = connection.ops.quote_name
    columns = ", ".join(
        [quote("id"), quote("seq"), _timestamp_sql(connection.vendor, quote("occurred_at"))]
        + [quote(name) for name in ("actor_id", "verb", "subject_type", "subject_id", "subject_repr", "data",
                                    "prev_hash", "hash", "department", "hash_version")]
    )
    select = f"SELECT {columns} FROM {quote(Activity._meta.db_table)} WHERE {quote('company_id')} = %s AND {quote('seq')} > %s"
    bounded = f"{select} AND {quote('seq')} <= %s ORDER BY {quote('seq')}"
    open_ended = f"{select} ORDER BY {quote('seq')} LIMIT %s"
    last = after
    with connection.cursor() as cursor:
        while True:
            cursor.execute(bounded, [company_id, last, last + chunk])
            page = cursor.fetchall()
            if not page:
                cursor.execute(open_ended, [company_id, last, chunk])
                page = cursor.fetchall()
                if not page:
                    return
            yield from page
            last = page[-1][1]


def verify_chain(
    company: Company | int, *, chunk: int = 20000, after: tuple[int, str] | None = None
) -> ChainReport:
    """Recompute the chain of one company; stop at the first row that does not hold.

    `after=(seq, hash)` starts behind a point already trusted (an anchor): only the later
    rows are walked, and the first must link to that hash.
    """
    company_id = company if isinstance(company, int) else company.pk
    report = ChainReport(company_id=company_id)
    start_seq, prev = after or (0, GENESIS_HASH)
    expected_seq, newest_version = start_seq + 1, 1
    report.last_seq, report.last_hash = start_seq, prev
    vendor = connections[router.db_for_read(Activity)].vendor
    timestamp, decode, encode = _timestamp_text(vendor), _json_decoder(), _canonical_encoder()
    sha256 = hashlib.sha256
    for (pk, seq, occurred_at, actor_id, verb, s_type, s_id, s_repr, data, prev_hash, digest, department,
         version) in _rows(company_id, chunk, start_seq):
        if seq != expected_seq:
            report.first_bad_seq, report.first_bad_id = expected_seq, pk
            report.problem = f"activity #{expected_seq} is missing (next found is #{seq}, id {pk})"
            return report
        if prev_hash != prev:
            report.first_bad_seq, report.first_bad_id = seq, pk
            report.problem = f"activity #{seq} (id {pk}) does not link to the activity before it"
            return report
        if version < newest_version or version > HASH_VERSION or department != department_of(verb):
            report.first_bad_seq, report.first_bad_id = seq, pk
            report.problem = f"activity #{seq} (id {pk}) was altered after it was recorded"
            return report
        payload = _payload(
            version, company_id, seq, timestamp(occurred_at), actor_id, verb, department, s_type, s_id, s_repr,
            decode(data), prev_hash,
        )
        if sha256(encode(payload).encode()).hexdigest() != digest:
            report.first_bad_seq, report.first_bad_id = seq, pk
            report.problem = f"activity #{seq} (id {pk}) was altered after it was recorded"
            return report
        report.checked += 1
        report.last_seq, report.last_hash = seq, digest
        expected_seq, prev, newest_version = seq + 1, digest, version
    head = ActivityChainHead.objects.filter(company_id=company_id).values_list("last_seq", "last_hash").first()
    if head and (head[0] != expected_seq - 1 or head[1] != prev):
        report.first_bad_seq = expected_seq
        report.problem = (
            f"the chain ends at #{expected_seq - 1} but {head[0]} activities were recorded: "
            f"activity #{expected_seq} and later were deleted"
        )
    return report


def verify_all(companies: Iterable[Company]) -> list[ChainReport]:
    return [verify_chain(c) for c in companies]
