"""Served hours (no I/O): one entry per delivered task, monthly totals, the committee's CSV.

The Ministry of Civil Affairs' rules for volunteer records ask for records that are true,
complete, timely and correctable: an entry is written at hand-over, in the same transaction,
and a correction never overwrites silently; it is appended to the entry's `corrections`.
"""
from __future__ import annotations

from datetime import datetime

from linli.spreadsheet import csv_text as spreadsheet

from . import domain

CSV_COLUMNS = ("volunteer", "date", "task", "minutes")


def entry(task: dict, volunteer_id: str, minutes: int, at: datetime, kind: str = "delivery") -> dict:
    """Minutes for one trip of a task; a task sent out again after a failure is another trip."""
    day = domain.local_date(at)
    trip = len(task.get("attempts") or [])
    return {"_id": f"hrs:{task['_id']}" + (f":{trip + 1}" if trip else ""), "volunteer_id": volunteer_id,
            "task_id": task["_id"], "community_id": task["dropoff"]["community_id"], "kind": kind, "date": day,
            "month": day[:7], "minutes": minutes,
            "credited_minutes": minutes, "at": at, "corrections": []}


def month_totals(entries: list[dict]) -> dict[str, dict]:
    """Per volunteer: minutes and tasks of the month."""
    totals: dict[str, dict] = {}
    for e in entries:
        t = totals.setdefault(e["volunteer_id"], {"volunteer_id": e["volunteer_id"], "minutes": 0, "tasks": 0})
        t["minutes"] += e["minutes"]
        t["tasks"] += 1
    return totals


def csv_text(entries: list[dict], names: dict[str, str]) -> str:
    """volunteer, date, task, minutes: one line per delivered task, named as the committee knows them
    (opens in Excel and WPS with the names intact; a name can never run as a formula)."""
    return spreadsheet(CSV_COLUMNS, ((names.get(e["volunteer_id"], e["volunteer_id"]), e["date"], e["task_id"],
                                      e["minutes"]) for e in entries))
