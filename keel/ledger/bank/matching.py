"""Proposing matches between statement lines and unreconciled ledger lines (pure functions).

A ledger line is a candidate for a statement line when it is within the date window and
(when the rules require it) of the same amount; reference and party matches raise its
score. Without the equal-amount rule a candidate needs a reference or party match. The
service (keel.ledger.services.reconciliation) loads the rows and calls `propose`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Rules:
    require_equal_amount: bool = True
    date_window_days: int = 7
    match_reference: bool = True
    match_party: bool = True


@dataclass(frozen=True)
class StatementItem:
    id: int
    date: dt.date
    amount: Decimal
    reference: str
    description: str
    counterparty_name: str
    counterparty_iban: str


@dataclass(frozen=True)
class LedgerItem:
    id: int
    date: dt.date
    amount: Decimal
    entry_reference: str
    label: str
    party_id: int | None
    party_name: str


@dataclass
class Proposal:
    statement_line_id: int
    line_id: int
    score: int
    reasons: list[str] = field(default_factory=list)


def _normal(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", (text or "").lower())


def reference_matches(item: StatementItem, candidate: LedgerItem) -> bool:
    """The entry's reference or the line's label appears in the statement's reference or text (or back)."""
    statement_text = _normal(f"{item.reference} {item.description}")
    ledger_text = _normal(f"{candidate.entry_reference} {candidate.label}")
    for needle in (_normal(candidate.entry_reference), _normal(candidate.label)):
        if len(needle) >= 4 and needle in statement_text:
            return True
    needle = _normal(item.reference)
    return len(needle) >= 4 and needle in ledger_text


def party_matches(item: StatementItem, candidate: LedgerItem, iban_parties: dict[str, set[int]]) -> bool:
    """The counterparty's IBAN was reconciled with this party before, or the names agree."""
    if candidate.party_id is None:
        return False
    if item.counterparty_iban and candidate.party_id in iban_parties.get(item.counterparty_iban, set()):
        return True
    mine, theirs = _normal(item.counterparty_name), _normal(candidate.party_name)
    return len(mine) >= 3 and len(theirs) >= 3 and (mine in theirs or theirs in mine)


def propose(
    items: list[StatementItem], candidates: list[LedgerItem], rules: Rules,
    iban_parties: dict[str, set[int]] | None = None, *, per_line: int = 3,
) -> dict[int, list[Proposal]]:
    """The best candidates for each statement line, best first."""
    iban_parties = iban_parties or {}
    window = dt.timedelta(days=rules.date_window_days)
    by_amount: dict[Decimal, list[LedgerItem]] = {}
    for candidate in candidates:
        by_amount.setdefault(candidate.amount, []).append(candidate)
    found: dict[int, list[Proposal]] = {}
    for item in items:
        pool = by_amount.get(item.amount, []) if rules.require_equal_amount else candidates
        proposals = []
        for candidate in pool:
            if abs(candidate.date - item.date) > window:
                continue
            reasons, score = [], 0
            if candidate.amount == item.amount:
                reasons.append("amount")
                score += 50
            if rules.match_reference and reference_matches(item, candidate):
                reasons.append("reference")
                score += 30
            if rules.match_party and party_matches(item, candidate, iban_parties):
                reasons.append("party")
                score += 20
            if not rules.require_equal_amount and not {"reference", "party"} & set(reasons):
                continue
            score += max(0, rules.date_window_days - abs((candidate.date - item.date).days))
            proposals.append(Proposal(item.id, candidate.id, score, reasons))
        proposals.sort(key=lambda p: (-p.score, p.line_id))
        if proposals:
            found[item.id] = proposals[:per_line]
    return found
