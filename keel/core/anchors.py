"""Anchors: signed checkpoints of the activity chains, kept outside the database.

The hash chain alone proves nothing against someone who can write the database: they can
cut the end of a chain and move its head back, delete a company's whole history with its
head, or rewrite one activity and re-hash every row after it. An anchor records, for one
company, the last sequence number, its hash, the number of activities and the time,
signed with HMAC-SHA256 under a key that is not in the database (KEEL_AUDIT_ANCHOR_KEY,
or a key generated once in var/ with mode 0600), in an append-only file per company in
KEEL_AUDIT_ANCHOR_DIR. `check_anchors()` then names each of the three attacks:

- the chain ends before an anchor's sequence: the end of the history was cut;
- an anchored company has no activities (or no longer exists): its history was deleted;
- the activity at an anchor's sequence has another hash: history up to it was rewritten
  (narrowed to the span between the last anchor that still matches and the first that
  does not).

`anchor()` refuses to sign a chain that does not verify from the previous anchor onward,
so a forgery made between two anchors is never blessed by the next one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from keel.core.activity import verify_chain
from keel.core.models import Activity, ActivityChainHead, Company
from keel.core.records import parse_id
from keel.keyfile import key_from_file

FORMAT = 1


class AnchorError(Exception):
    """An anchor file that cannot be trusted (altered, or signed with another key)."""


@dataclass(frozen=True)
class Anchor:
    """One signed checkpoint of one company's chain."""

    company_id: int
    company_code: str
    last_seq: int
    last_hash: str
    count: int
    anchored_at: str  # ISO 8601, UTC
    key_id: str
    format: int = FORMAT

    def signed_fields(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def anchor_dir() -> Path:
    return Path(settings.KEEL_AUDIT_ANCHOR_DIR)


def _key() -> bytes:
    configured = os.environ.get("KEEL_AUDIT_ANCHOR_KEY")
    return (configured or key_from_file(Path(settings.KEEL_AUDIT_ANCHOR_KEY_FILE))).encode()


def _key_id(key: bytes) -> str:
    """Names the key an anchor was signed with (not the key: a hash of it)."""
    return hashlib.sha256(b"keel-anchor-key-id:" + key).hexdigest()[:12]


def _sign(anchor: Anchor, key: bytes) -> str:
    return hmac.new(key, anchor.signed_fields(), hashlib.sha256).hexdigest()


def _path(company_id: int) -> Path:
    return anchor_dir() / f"company-{company_id}.jsonl"


def read_anchors(company_id: int) -> list[Anchor]:
    """The company's anchors, oldest first; AnchorError when one does not verify."""
    path = _path(company_id)
    if not path.exists():
        return []
    key = _key()
    anchors: list[Anchor] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            signature = raw.pop("signature")
            anchor = Anchor(**raw)
        except (ValueError, TypeError, KeyError):
            raise AnchorError(f"{path.name} line {number} is not an anchor (the file was altered)")
        if anchor.key_id != _key_id(key):
            raise AnchorError(
                f"{path.name} line {number} was signed with another key (key {anchor.key_id}; "
                f"this installation's is {_key_id(key)}): set KEEL_AUDIT_ANCHOR_KEY to the key it was made with"
            )
        if not hmac.compare_digest(signature, _sign(anchor, key)):
            raise AnchorError(f"{path.name} line {number} does not match its signature (the file was altered)")
        if anchor.company_id != company_id or (anchors and anchor.last_seq < anchors[-1].last_seq):
            raise AnchorError(f"{path.name} line {number} does not continue the file (the file was altered)")
        anchors.append(anchor)
    return anchors


def anchored_company_ids() -> list[int]:
    """Every company that has an anchor file, whether or not it is still in the database."""
    folder = anchor_dir()
    if not folder.is_dir():
        return []
    ids = []
    for path in folder.glob("company-*.jsonl"):
        number = path.stem.removeprefix("company-")
        if parse_id(number) is not None:
            ids.append(parse_id(number))
    return sorted(ids)


def _append(anchor: Anchor, key: bytes) -> None:
    folder = anchor_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps({**asdict(anchor), "signature": _sign(anchor, key)}, sort_keys=True) + "\n"
    descriptor = os.open(_path(anchor.company_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # one writer at a time (the worker and a manual run)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class AnchorCheck:
    """What the anchors say about one company's chain ("" problem: consistent)."""

    company_id: int
    company_code: str
    latest: Anchor | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _hashes_at(company_id: int, seqs: Iterable[int]) -> dict[int, str]:
    return dict(
        Activity.objects.filter(company_id=company_id, seq__in=list(seqs)).values_list("seq", "hash")
    )


def _when(anchor: Anchor) -> str:
    return anchor.anchored_at[:19].replace("T", " ") + " UTC"


def check_anchors(company_id: int, company_code: str = "", anchors: list[Anchor] | None = None) -> AnchorCheck:
    """Compare the company's chain in the database with its anchors.

    Call it on a chain that `verify_chain` found intact: then the latest anchor matching
    means every earlier one does too (each row's hash covers all rows before it).
    """
    anchors = read_anchors(company_id) if anchors is None else anchors
    check = AnchorCheck(company_id=company_id, company_code=company_code or (anchors[-1].company_code if anchors else ""))
    if not anchors:
        return check
    latest = check.latest = anchors[-1]
    head = ActivityChainHead.objects.filter(company_id=company_id).values_list("last_seq", flat=True).first()
    newest = (
        Activity.objects.filter(company_id=company_id).order_by("-seq").values_list("seq", flat=True).first()
    )
    if newest is None and latest.last_seq > 0:
        check.problem = (
            f"history deleted: the anchor of {_when(latest)} recorded {latest.count} activities "
            f"(up to #{latest.last_seq}), the database has none"
            + ("" if head else " and no chain head")
        )
        return check
    if newest is not None and newest < latest.last_seq:
        check.problem = (
            f"history cut: the anchor of {_when(latest)} recorded activities up to #{latest.last_seq}, "
            f"the chain ends at #{newest}: activities #{newest + 1} to #{latest.last_seq} were deleted "
            f"and the chain head moved back"
        )
        return check
    if _hashes_at(company_id, [latest.last_seq]).get(latest.last_seq) == latest.last_hash:
        return check  # the usual case: one row read, whatever the number of anchors
    found = _hashes_at(company_id, [a.last_seq for a in anchors])
    matching = [a for a in anchors if found.get(a.last_seq) == a.last_hash]
    first_bad = next(a for a in anchors if found.get(a.last_seq) != a.last_hash)
    since = max((a.last_seq for a in matching if a.last_seq < first_bad.last_seq), default=0)
    check.problem = (
        f"history rewritten: activity #{first_bad.last_seq} does not have the hash the anchor of "
        f"{_when(first_bad)} recorded; an activity from #{since + 1} to #{first_bad.last_seq} was altered "
        f"and the chain re-hashed after it"
    )
    return check


@dataclass
class AnchorResult:
    company_code: str
    anchor: Anchor | None = None
    unchanged: bool = False
    refused: str = ""


def anchor(company: Company) -> AnchorResult:
    """Write a new anchor of the company's chain, unless nothing changed since the last.

    Refuses (and writes nothing) when the chain no longer matches the previous anchor or
    does not verify from it onward.
    """
    result = AnchorResult(company_code=company.code)
    try:
        anchors = read_anchors(company.pk)
    except AnchorError as exc:
        result.refused = str(exc)
        return result
    check = check_anchors(company.pk, company.code, anchors)
    if not check.ok:
        result.refused = check.problem
        return result
    latest = anchors[-1] if anchors else None
    report = verify_chain(company, after=(latest.last_seq, latest.last_hash) if latest else None)
    if not report.ok:
        result.refused = report.problem
        return result
    if latest and report.last_seq == latest.last_seq:
        result.unchanged, result.anchor = True, latest
        return result
    if report.last_seq == 0:
        result.unchanged = True  # nothing recorded yet
        return result
    key = _key()
    new = Anchor(
        company_id=company.pk, company_code=company.code, last_seq=report.last_seq, last_hash=report.last_hash,
        count=(latest.count if latest else 0) + report.checked,
        anchored_at=timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"), key_id=_key_id(key),
    )
    _append(new, key)
    result.anchor = new
    return result


def anchor_all(companies: Iterable[Company] | None = None) -> list[AnchorResult]:
    return [anchor(c) for c in (Company.objects.order_by("code") if companies is None else companies)]


def missing_companies() -> list[AnchorCheck]:
    """Anchored companies that are no longer in the database, each a named problem."""
    present = set(Company.objects.values_list("pk", flat=True))
    checks = []
    for company_id in anchored_company_ids():
        if company_id in present:
            continue
        try:
            anchors = read_anchors(company_id)
        except AnchorError as exc:
            checks.append(AnchorCheck(company_id=company_id, company_code=f"#{company_id}", problem=str(exc)))
            continue
        if anchors:
            latest = anchors[-1]
            checks.append(AnchorCheck(
                company_id=company_id, company_code=latest.company_code, latest=latest,
                problem=(
                    f"history deleted: company {latest.company_code} (id {company_id}) is no longer in the "
                    f"database; its anchor of {_when(latest)} recorded {latest.count} activities"
                ),
            ))
    return checks
