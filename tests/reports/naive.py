"""The reports' figures the slow, obvious way: every table read whole into Python, each
member's hours added up from the raw attendance rows (never the running totals), each
figure counted in loops. Deliberately independent of app/reports."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from app.models import metadata

ORDER = ["not_started", "study", "evaluation", "rectification", "completed"]
PHASES = ["study", "evaluation", "rectification"]
CATEGORIES = ["migrant", "outgoing", "retired", "infirm"]
FORMATS = [
    "collective_study",
    "party_lecture",
    "tutorial_report",
    "seminar",
    "distance_learning",
    "home_delivery",
    "self_study",
    "make_up",
]


def _rows(session: Session, name: str) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(sa.select(metadata.tables[name]))]


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def ratio(part: int, whole: int) -> float | None:
    return float(round(Decimal(part) / Decimal(whole), 4)) if whole else None


@dataclass
class Raw:
    districts: dict[int, dict]
    units: dict[int, dict]
    branches: dict[int, dict]
    members: list[dict]
    progress: dict[int, dict]
    phases: dict[tuple[int, str], dict]
    exempt: set[tuple[int, int, str]]
    sessions: list[dict]
    attendance: list[dict]
    marks: dict[int, dict]
    users: dict[int, dict]


def load(session: Session) -> Raw:
    session.rollback()  # a fresh read: the API wrote on its own connections
    return Raw(
        districts={r["id"]: r for r in _rows(session, "district")},
        units={r["id"]: r for r in _rows(session, "unit")},
        branches={r["id"]: r for r in _rows(session, "branch")},
        members=_rows(session, "member"),
        progress={r["unit_id"]: r for r in _rows(session, "unit_progress")},
        phases={(r["batch_id"], r["phase"]): r for r in _rows(session, "batch_phase")},
        exempt={
            (r["member_id"], r["batch_id"], r["phase"]) for r in _rows(session, "member_exemption")
        },
        sessions=_rows(session, "study_session"),
        attendance=_rows(session, "attendance"),
        marks={r["branch_id"]: r for r in _rows(session, "weak_branch_mark")},
        users={r["id"]: r for r in _rows(session, "app_user")},
    )


@dataclass
class Scope:
    """Which units and branches the caller sees (None: all)."""

    units: set[int] | None = None
    branches: set[int] | None = None

    def sees(self, unit_id: int, branch_id: int) -> bool:
        return (self.units is None or unit_id in self.units) and (
            self.branches is None or branch_id in self.branches
        )


def measured_phase(raw: Raw, unit_id: int, phase: str | None, batch_id: int | None) -> str | None:
    p = raw.progress.get(unit_id)
    if p is None or (batch_id is not None and p["batch_id"] != batch_id):
        return None
    if phase is None:
        if p["state"] == "completed":
            return "rectification"
        return p["state"] if p["state"] in PHASES else None
    return phase if ORDER.index(p["state"]) >= ORDER.index(phase) else None


@dataclass
class Counted:
    """One counted member in one measured unit."""

    member: dict
    branch_id: int
    unit_id: int
    district_id: int
    batch_id: int
    phase: str
    hours: Decimal
    attended: bool
    last: date | None
    required: Decimal
    running: bool  # the unit is in this phase and its window began 30+ days ago

    @property
    def categories(self) -> list[str]:
        return [c for c in CATEGORIES if self.member[f"is_{c}"]]


def counted_members(raw: Raw, scope: Scope, phase: str | None, batch_id: int | None, day: date):
    sessions = {s["id"]: s for s in raw.sessions}
    out = []
    for m in raw.members:
        if m["status"] != "active":
            continue
        b = raw.branches[m["branch_id"]]
        u = raw.units[b["unit_id"]]
        if not scope.sees(u["id"], b["id"]):
            continue
        p = measured_phase(raw, u["id"], phase, batch_id)
        if p is None:
            continue
        batch = raw.progress[u["id"]]["batch_id"]
        if (m["id"], batch, p) in raw.exempt:
            continue
        hours, attended, last = Decimal(0), False, None
        for a in raw.attendance:
            s = sessions[a["session_id"]]
            if a["member_id"] != m["id"] or s["batch_id"] != batch or s["phase"] != p:
                continue
            hours += _dec(a["credited"])
            if a["status"] in ("present", "late"):
                attended = True
                last = s["held_on"] if last is None else max(last, s["held_on"])
        window = raw.phases[(batch, p)]
        out.append(
            Counted(
                member=m,
                branch_id=b["id"],
                unit_id=u["id"],
                district_id=u["district_id"],
                batch_id=batch,
                phase=p,
                hours=hours,
                attended=attended,
                last=last,
                required=_dec(window["min_hours"]),
                running=raw.progress[u["id"]]["state"] == p
                and window["starts_on"] + timedelta(days=30) <= day,
            )
        )
    return out


def _key(level: str, raw: Raw, unit_id: int, branch_id: int):
    return {
        "city": None,
        "district": raw.units[unit_id]["district_id"],
        "unit": unit_id,
        "branch": branch_id,
    }[level]


def coverage(raw: Raw, scope: Scope, level: str, phase, batch_id, day, parent_id=None) -> dict:
    """{key: figures} for every row (key None for the city), and the total under "total"."""
    rows: dict = {}

    def in_parent(unit_id: int, branch_id: int) -> bool:
        if parent_id is None:
            return True
        if level == "unit":
            return raw.units[unit_id]["district_id"] == parent_id
        return raw.branches[branch_id]["unit_id"] == parent_id

    def blank():
        return {
            "members": 0,
            "participated": 0,
            "met_hours": 0,
            "hours": Decimal(0),
            "sessions": 0,
            "leader_lectures": 0,
            "formats": set(),
            "categories": {c: [0, 0, 0] for c in CATEGORIES},
        }

    # Every branch of a measured unit has a row (or adds to its level's row), members or not.
    for b in raw.branches.values():
        u = raw.units[b["unit_id"]]
        measured = measured_phase(raw, u["id"], phase, batch_id) is not None
        if measured and scope.sees(u["id"], b["id"]) and in_parent(u["id"], b["id"]):
            rows.setdefault(_key(level, raw, u["id"], b["id"]), blank())
    if level == "city":
        rows.setdefault(None, blank())
    for c in counted_members(raw, scope, phase, batch_id, day):
        if not in_parent(c.unit_id, c.branch_id):
            continue
        r = rows[_key(level, raw, c.unit_id, c.branch_id)]
        met = c.hours >= c.required
        r["members"] += 1
        r["participated"] += c.attended
        r["met_hours"] += met
        r["hours"] += c.hours
        for cat in c.categories:
            r["categories"][cat][0] += 1
            r["categories"][cat][1] += c.attended
            r["categories"][cat][2] += met
    for s in raw.sessions:
        b = raw.branches[s["branch_id"]]
        u = raw.units[b["unit_id"]]
        if not (scope.sees(u["id"], b["id"]) and in_parent(u["id"], b["id"])):
            continue
        p = measured_phase(raw, u["id"], phase, batch_id)
        if p is None or s["phase"] != p or s["batch_id"] != raw.progress[u["id"]]["batch_id"]:
            continue
        r = rows[_key(level, raw, u["id"], b["id"])]
        r["sessions"] += 1
        r["leader_lectures"] += bool(s["lecturer_is_leading_cadre"])
        r["formats"].add(s["format"])
    total = blank()
    for r in rows.values():
        for k in ("members", "participated", "met_hours", "hours", "sessions", "leader_lectures"):
            total[k] += r[k]
        total["formats"] |= r["formats"]
        for cat in CATEGORIES:
            for i in range(3):
                total["categories"][cat][i] += r["categories"][cat][i]
    return {"rows": {k: _shape(v) for k, v in rows.items()}, "total": _shape(total)}


def _shape(r: dict) -> dict:
    n = r["members"]
    return {
        "members": n,
        "participated": r["participated"],
        "met_hours": r["met_hours"],
        "coverage": ratio(r["met_hours"], n),
        "avg_hours": float(round(r["hours"] / n, 2)) if n else None,
        "sessions": r["sessions"],
        "formats_used": len(r["formats"]),
        "leader_lectures": r["leader_lectures"],
        "formats": [f for f in FORMATS if f in r["formats"]],
        "categories": {
            c: {
                "members": v[0],
                "participated": v[1],
                "met_hours": v[2],
                "coverage": ratio(v[2], v[0]),
            }
            for c, v in r["categories"].items()
        },
    }


def remedy(categories: list[str]) -> str:
    if "migrant" in categories or "outgoing" in categories:
        return "distance_learning"
    if "retired" in categories or "infirm" in categories:
        return "home_delivery"
    return "make_up"


def gaps(raw: Raw, scope: Scope, phase, batch_id, day) -> list[dict]:
    out = []
    for c in counted_members(raw, scope, phase, batch_id, day):
        reasons = []
        if c.hours < c.required:
            reasons.append("below_hours")
        if c.running and (c.last is None or (day - c.last).days > 30):
            reasons.append("inactive_30d")
        if not reasons:
            continue
        out.append(
            {
                "member_id": c.member["id"],
                "branch_id": c.branch_id,
                "unit_id": c.unit_id,
                "categories": c.categories,
                "phase": c.phase,
                "hours": float(c.hours),
                "required": float(c.required),
                "missing_hours": float(max(c.required - c.hours, Decimal(0))),
                "last_attended_on": c.last.isoformat() if c.last else None,
                "days_since": (day - c.last).days if c.last else None,
                "reasons": reasons,
                "remedy": remedy(c.categories),
            }
        )
    out.sort(key=lambda g: (-g["missing_hours"], g["member_id"]))
    return out


def dead_corners(raw: Raw, scope: Scope, phase, batch_id, day) -> list[dict]:
    per: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in counted_members(raw, scope, phase, batch_id, day):
        for cat in c.categories:
            per[(c.branch_id, cat)][0] += 1
            per[(c.branch_id, cat)][1] += c.attended
    out = []
    for (branch_id, cat), (members, attended) in per.items():
        if members and not attended:
            b = raw.branches[branch_id]
            u = raw.units[b["unit_id"]]
            d = raw.districts[u["district_id"]]
            out.append(
                {
                    "sort": (d["code"], u["code"], b["code"], CATEGORIES.index(cat)),
                    "branch_id": branch_id,
                    "category": cat,
                    "members": members,
                }
            )
    out.sort(key=lambda r: r.pop("sort"))
    return out


def weak_branches(raw: Raw, scope: Scope, phase, batch_id, day) -> list[dict]:
    counted = counted_members(raw, scope, phase, batch_id, day)
    out = []
    for b in raw.branches.values():
        u = raw.units[b["unit_id"]]
        if not scope.sees(u["id"], b["id"]):
            continue
        if batch_id is not None and raw.progress.get(u["id"], {}).get("batch_id") != batch_id:
            continue
        p = measured_phase(raw, u["id"], phase, batch_id)
        mine = [c for c in counted if c.branch_id == b["id"]]
        members, attended = len(mine), sum(c.attended for c in mine)
        reasons = []
        days = None
        last = None
        if p is not None:
            if members and attended / members < 0.6:
                reasons.append("low_participation")
            batch = raw.progress[u["id"]]["batch_id"]
            held = [
                s["held_on"]
                for s in raw.sessions
                if s["branch_id"] == b["id"] and s["batch_id"] == batch and s["phase"] == p
            ]
            last = max(held) if held else None
            window = raw.phases[(batch, p)]
            running = raw.progress[u["id"]]["state"] == p and (day - window["starts_on"]).days >= 30
            since = last or window["starts_on"]
            if running and (day - since).days > 30 if last else running:
                reasons.append("no_recent_session")
                days = (day - since).days
        mark = raw.marks.get(b["id"])
        if mark is not None and mark["status"] != "done":
            reasons.append("marked")
        if not reasons:
            continue
        out.append(
            {
                "branch_id": b["id"],
                "members": members,
                "participated": attended,
                "participation": ratio(attended, members),
                "last_session_on": last.isoformat() if last else None,
                "days_without_session": days,
                "reasons": reasons,
                "mark_status": mark["status"] if mark else None,
                "sort": (members == 0, attended / members if members else 0, b["code"]),
            }
        )
    out.sort(key=lambda r: r.pop("sort"))
    return out
