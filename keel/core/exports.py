"""The activity log as event logs for process-mining tools: OCEL 2.0 JSON and XES.

Both writers stream: they read activities in key-set pages of plain tuples (never model
instances) and write as they go, so a company with millions of activities is exported in
constant memory for the events (the OCEL writer keeps one small entry per object).

- OCEL 2.0 (object-centric): objects are the records activities are about (their type is
  the subject type, e.g. `core.party`); events are the activities, typed by their verb,
  with the activity's data as attributes and a relationship to their record.
- XES (case-centric): one trace per record, case id `subject_type:subject_id`; events with
  `concept:name` = verb, `time:timestamp`, `org:resource` = the actor's username.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr as _quoteattr

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from keel.core.models import Activity, Company

SYSTEM_ACTOR = "system"
# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def quoteattr(value: str) -> str:
    return _quoteattr(_XML_INVALID.sub("\ufffd", value))

CHUNK = 5000

_FIELDS = ("id", "seq", "occurred_at", "actor_id", "verb", "subject_type", "subject_id", "subject_repr", "data")


def _bounds(date_from: dt.date | None, date_to: dt.date | None) -> Q:
    """Whole days in the current time zone, as a filter on occurred_at."""
    tz = timezone.get_current_timezone()
    condition = Q()
    if date_from is not None:
        condition &= Q(occurred_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to is not None:
        condition &= Q(occurred_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return condition


class _Actors:
    """Usernames by user id, fetched as new ids appear (a company has few actors)."""

    def __init__(self) -> None:
        self.names: dict[int | None, str] = {None: SYSTEM_ACTOR}

    def load(self, rows: list[tuple]) -> None:
        missing = {row[3] for row in rows} - self.names.keys()
        if missing:
            found = dict(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
            self.names.update({pk: found.get(pk, f"user:{pk}") for pk in missing})

    def __getitem__(self, actor_id: int | None) -> str:
        return self.names[actor_id]


def iter_activities(
    company: Company, *, date_from: dt.date | None = None, date_to: dt.date | None = None, chunk: int | None = None
) -> Iterator[list[tuple]]:
    """Pages of activity tuples (`_FIELDS`) in chain order, by key set on (company, seq)."""
    base = Activity.objects.filter(company_id=company.pk).filter(_bounds(date_from, date_to))
    chunk = chunk or CHUNK
    last = 0
    while True:
        page = list(base.filter(seq__gt=last).order_by("seq").values_list(*_FIELDS)[:chunk])
        if not page:
            return
        yield page
        last = page[-1][1]


def iter_activities_by_subject(
    company: Company, *, date_from: dt.date | None = None, date_to: dt.date | None = None, chunk: int | None = None
) -> Iterator[list[tuple]]:
    """Pages of activity tuples grouped by record, each record's activities in chain order.

    Key set on (subject_type, subject_id, seq) in the order of the `core_activity_subject`
    index (type and id descending, seq ascending is that index read backwards).
    """
    base = Activity.objects.filter(company_id=company.pk).filter(_bounds(date_from, date_to))
    order = ("-subject_type", "-subject_id", "seq")
    chunk = chunk or CHUNK
    after: tuple[str, str, int] | None = None
    while True:
        query = base
        if after is not None:
            s_type, s_id, seq = after
            query = query.filter(
                Q(subject_type__lt=s_type)
                | Q(subject_type=s_type, subject_id__lt=s_id)
                | Q(subject_type=s_type, subject_id=s_id, seq__gt=seq)
            )
        page = list(query.order_by(*order).values_list(*_FIELDS)[:chunk])
        if not page:
            return
        yield page
        after = (page[-1][5], page[-1][6], page[-1][1])


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _scalar(value: Any) -> str | int | bool | None:
    """Attribute values are scalars: nested data is written as its JSON text."""
    if value is None or isinstance(value, str | int | bool):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _ocel_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "string"


def object_id(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"


def write_ocel(
    company: Company, out: TextIO, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> tuple[int, int]:
    """Write an OCEL 2.0 JSON log; returns (events, objects) written."""
    actors = _Actors()
    objects: dict[str, tuple[str, str]] = {}  # object id -> (type, latest label)
    event_attributes: dict[str, dict[str, str]] = {}  # verb -> attribute name -> type
    dumps = json.dumps
    events = 0
    out.write('{"events": [')
    for page in iter_activities(company, date_from=date_from, date_to=date_to):
        actors.load(page)
        parts = []
        for pk, seq, occurred_at, actor_id, verb, s_type, s_id, s_repr, data in page:
            oid = object_id(s_type, s_id)
            objects[oid] = (s_type, s_repr)
            declared = event_attributes.setdefault(verb, {"actor": "string", "seq": "integer"})
            attributes = [{"name": "actor", "value": actors[actor_id]}, {"name": "seq", "value": seq}]
            if isinstance(data, dict):
                for name, value in data.items():
                    if name in ("actor", "seq"):
                        name = f"data_{name}"
                    value = _scalar(value)
                    declared.setdefault(name, _ocel_type(value))
                    attributes.append({"name": name, "value": value})
            event = {
                "id": f"activity:{pk}",
                "type": verb,
                "time": _utc(occurred_at),
                "attributes": attributes,
                "relationships": [{"objectId": oid, "qualifier": "subject"}],
            }
            parts.append(dumps(event, ensure_ascii=False))
        out.write(("," if events else "") + "\n" + ",\n".join(parts))
        events += len(page)
    out.write('\n],\n"objects": [')
    for index, (oid, (s_type, label)) in enumerate(objects.items()):
        record = {
            "id": oid,
            "type": s_type,
            "attributes": [{"name": "label", "time": "1970-01-01T00:00:00Z", "value": label}],
            "relationships": [],
        }
        out.write(("," if index else "") + "\n" + dumps(record, ensure_ascii=False))
    object_types = sorted({s_type for s_type, _ in objects.values()})
    header = {
        "objectTypes": [{"name": name, "attributes": [{"name": "label", "type": "string"}]} for name in object_types],
        "eventTypes": [
            {"name": verb, "attributes": [{"name": name, "type": kind} for name, kind in attributes.items()]}
            for verb, attributes in sorted(event_attributes.items())
        ],
    }
    out.write("\n],\n")
    out.write(dumps(header, ensure_ascii=False, indent=1)[1:-1].strip("\n"))
    out.write("\n}\n")
    return events, len(objects)


_XES_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="org:resource" value="__INVALID__"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value={company}/>
  <string key="keel:company" value={code}/>
"""

_RESERVED = {"concept:name", "time:timestamp", "org:resource", "lifecycle:transition", "keel:seq"}


def _xes_attribute(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return f'<boolean key={quoteattr(name)} value="{"true" if value else "false"}"/>'
    if isinstance(value, int):
        return f'<int key={quoteattr(name)} value="{value}"/>'
    return f"<string key={quoteattr(name)} value={quoteattr(str(_scalar(value)))}/>"


def write_xes(
    company: Company, out: TextIO, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> tuple[int, int]:
    """Write an XES log, one trace per record; returns (events, traces) written."""
    actors = _Actors()
    out.write(_XES_HEADER.format(company=quoteattr(company.legal_name), code=quoteattr(company.code)))
    events = traces = 0
    current: tuple[str, str] | None = None
    for page in iter_activities_by_subject(company, date_from=date_from, date_to=date_to):
        actors.load(page)
        parts: list[str] = []
        for _pk, seq, occurred_at, actor_id, verb, s_type, s_id, s_repr, data in page:
            if (s_type, s_id) != current:
                if current is not None:
                    parts.append("  </trace>\n")
                current = (s_type, s_id)
                traces += 1
                parts.append(
                    f"  <trace>\n    <string key=\"concept:name\" value={quoteattr(object_id(s_type, s_id))}/>\n"
                    f"    <string key=\"keel:subject_type\" value={quoteattr(s_type)}/>\n"
                    f"    <string key=\"keel:label\" value={quoteattr(s_repr)}/>\n"
                )
            timestamp = occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
            parts.append(
                f"    <event>\n      <string key=\"concept:name\" value={quoteattr(verb)}/>\n"
                f"      <date key=\"time:timestamp\" value=\"{timestamp}\"/>\n"
                f"      <string key=\"org:resource\" value={quoteattr(actors[actor_id])}/>\n"
                f"      <string key=\"lifecycle:transition\" value=\"complete\"/>\n"
                f"      <int key=\"keel:seq\" value=\"{seq}\"/>\n"
            )
            if isinstance(data, dict):
                parts.extend(
                    f"      {_xes_attribute(name, value)}\n" for name, value in data.items()
                    if name not in _RESERVED and value is not None
                )
            parts.append("    </event>\n")
        out.write("".join(parts))
        events += len(page)
    if current is not None:
        out.write("  </trace>\n")
    out.write("</log>\n")
    return events, traces


WRITERS = {"ocel": write_ocel, "xes": write_xes}
