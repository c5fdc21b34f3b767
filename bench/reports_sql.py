"""bench/reports.py's hand-written SQL: (a) over the running totals (members'
``member_study_total``, branches' ``branch_session_total``) and (b), the same with the
totals replaced by GROUP BYs over every attendance row and every session. Plain strings,
run on a DBAPI cursor, so that nothing of the app's query building is in them."""

from app.org.enums import MemberCategory
from app.study.enums import SessionFormat

LEVELS = ("city", "district", "unit", "branch")
CATEGORIES = [c.value for c in MemberCategory]
EARNING = "('present', 'late')"

TOTALS = "member_study_total"
NAIVE_TOTALS = f"""(
    SELECT a.member_id, s.batch_id, s.phase,
           SUM(a.credited) AS hours,
           SUM(CASE WHEN a.status IN {EARNING} THEN 1 ELSE 0 END) AS sessions,
           MAX(CASE WHEN a.status IN {EARNING} THEN s.held_on END) AS last_attended_on
    FROM attendance a JOIN study_session s ON s.id = a.session_id
    GROUP BY a.member_id, s.batch_id, s.phase
)"""


def measured(cutoff: str, unit: str = "") -> str:
    """Each enrolled unit in its current phase, with the phase's hours and whether the
    30-day rules apply (the window began 30 days or more before today); a completed unit in
    its last phase, rectification, where they do not. Two plain equality joins rather than
    one on ``CASE state``: PostgreSQL cannot estimate the CASE join, takes it for a few
    dozen rows and loops over every member's totals row by index (about 1.5x slower).

    ``unit``: only this unit (an SQL expression), named in both arms, as the app narrows
    its own: the planner does not carry a branch's condition into the union."""
    only = f" AND up.unit_id = {unit}" if unit else ""
    return f"""measured AS (
    SELECT up.unit_id, up.batch_id, bp.phase, bp.min_hours,
           CASE WHEN bp.starts_on <= '{cutoff}' THEN 1 ELSE 0 END AS running
    FROM unit_progress up
    JOIN batch_phase bp ON bp.batch_id = up.batch_id AND bp.phase = up.state
    WHERE TRUE{only}
    UNION ALL
    SELECT up.unit_id, up.batch_id, bp.phase, bp.min_hours, 0
    FROM unit_progress up
    JOIN batch_phase bp ON bp.batch_id = up.batch_id AND bp.phase = 'rectification'
    WHERE up.state = 'completed'{only}
)"""


_KEYS = {
    "city": ("0", "", ""),
    "district": ("u.district_id", ", d.code, d.name", "JOIN district d ON d.id = u.district_id"),
    "unit": ("u.id", ", u.code, u.name", ""),
    "branch": ("b.id", ", b.code, b.name", ""),
}


def active(kind: str) -> str:
    """Active members of a branch. On SQLite without statistics, ``status = 'active'`` makes
    the planner join members through the index on status, scanning every active member once
    per branch; the unary plus keeps that index out of it, as the app's own SQL does."""
    return "+m.status = 'active'" if kind == "sqlite" else "m.status = 'active'"


def coverage_sql(level: str, totals: str, cutoff: str, kind: str) -> tuple[str, str]:
    """Two statements, each one GROUP BY: per row the key, (code, name,) members,
    participated, met hours, hours and the same three counts per category; and per row
    the key, sessions, leading-cadre lectures and formats used. Over the running totals
    (``totals`` is TOTALS) the session figures come from the branches' totals
    (branch_session_total); naively, from the sessions counted per branch, batch, phase
    and format first. (One statement joining both is planned badly by SQLite: several
    times slower than the two.)"""
    key, names, join = _KEYS[level]
    counted = "m.id IS NOT NULL AND e.member_id IS NULL"
    took_part = "COALESCE(t.sessions, 0) > 0"
    met = "COALESCE(t.hours, 0) >= ms.min_hours"
    figures = [
        f"SUM(CASE WHEN {counted} THEN 1 ELSE 0 END) AS members",
        f"SUM(CASE WHEN {counted} AND {took_part} THEN 1 ELSE 0 END) AS participated",
        f"SUM(CASE WHEN {counted} AND {met} THEN 1 ELSE 0 END) AS met_hours",
        f"SUM(CASE WHEN {counted} THEN COALESCE(t.hours, 0) ELSE 0 END) AS hours",
    ]
    for c in CATEGORIES:
        flag = f"{counted} AND m.is_{c}"
        figures += [
            f"SUM(CASE WHEN {flag} THEN 1 ELSE 0 END) AS {c}_members",
            f"SUM(CASE WHEN {flag} AND {took_part} THEN 1 ELSE 0 END) AS {c}_participated",
            f"SUM(CASE WHEN {flag} AND {met} THEN 1 ELSE 0 END) AS {c}_met_hours",
        ]
    group = f"GROUP BY {key}{names}" if level != "city" else ""
    members = f"""WITH {measured(cutoff)}
SELECT {key} AS k{names}, {", ".join(figures)}
FROM measured ms
JOIN unit u ON u.id = ms.unit_id
JOIN branch b ON b.unit_id = u.id
{join}
LEFT JOIN member m ON m.branch_id = b.id AND {active(kind)}
LEFT JOIN {totals} t ON t.member_id = m.id AND t.batch_id = ms.batch_id AND t.phase = ms.phase
LEFT JOIN member_exemption e
    ON e.member_id = m.id AND e.batch_id = ms.batch_id AND e.phase = ms.phase
{group}
ORDER BY CASE WHEN SUM(CASE WHEN {counted} THEN 1 ELSE 0 END) = 0 THEN 1 ELSE 0 END,
         1.0 * SUM(CASE WHEN {counted} AND {met} THEN 1 ELSE 0 END)
             / NULLIF(SUM(CASE WHEN {counted} THEN 1 ELSE 0 END), 0), 1"""
    session_group = f"GROUP BY {key}" if level != "city" else ""
    tree = """FROM measured ms
JOIN unit u ON u.id = ms.unit_id
JOIN branch b ON b.unit_id = u.id"""
    if totals == TOTALS:
        # The branches' running totals: one row per branch and phase, a count per format.
        used = " + ".join(
            f"CASE WHEN SUM(h.{fmt.value}_sessions) > 0 THEN 1 ELSE 0 END" for fmt in SessionFormat
        )
        sessions = f"""WITH {measured(cutoff)}
SELECT {key} AS k, SUM(h.sessions) AS sessions, SUM(h.leader_lectures) AS leader_lectures,
       {used} AS formats_used
{tree}
JOIN branch_session_total h
    ON h.branch_id = b.id AND h.batch_id = ms.batch_id AND h.phase = ms.phase
{session_group}"""
        return members, sessions
    sessions = f"""WITH {measured(cutoff)},
held AS (
    SELECT branch_id, batch_id, phase, format, COUNT(*) AS sessions,
           SUM(CASE WHEN lecturer_is_leading_cadre THEN 1 ELSE 0 END) AS leader_lectures
    FROM study_session
    GROUP BY branch_id, batch_id, phase, format
)
SELECT {key} AS k, SUM(h.sessions) AS sessions, SUM(h.leader_lectures) AS leader_lectures,
       COUNT(DISTINCT h.format) AS formats_used
{tree}
JOIN held h ON h.branch_id = b.id AND h.batch_id = ms.batch_id AND h.phase = ms.phase
{session_group}"""
    return members, sessions


def gaps_sql(branch_id: int, totals: str, cutoff: str, kind: str) -> str:
    """The branch's members with a gap: below the hours, or nothing attended for 30 days
    while the phase runs; most hours missing first."""
    hours = "COALESCE(t.hours, 0)"
    unit = f"(SELECT unit_id FROM branch WHERE id = {int(branch_id)})"
    return f"""WITH {measured(cutoff, unit)}
SELECT m.id, m.name, m.is_migrant, m.is_outgoing, m.is_retired, m.is_infirm,
       b.id, b.name, u.id, u.name, ms.phase, {hours} AS hours, ms.min_hours,
       CASE WHEN {hours} < ms.min_hours THEN ms.min_hours - {hours} ELSE 0 END AS missing,
       t.last_attended_on
FROM measured ms
JOIN unit u ON u.id = ms.unit_id
JOIN branch b ON b.unit_id = u.id
JOIN member m ON m.branch_id = b.id AND {active(kind)}
LEFT JOIN {totals} t ON t.member_id = m.id AND t.batch_id = ms.batch_id AND t.phase = ms.phase
LEFT JOIN member_exemption e
    ON e.member_id = m.id AND e.batch_id = ms.batch_id AND e.phase = ms.phase
WHERE b.id = {int(branch_id)} AND e.member_id IS NULL
  AND ({hours} < ms.min_hours
       OR (ms.running = 1 AND (t.last_attended_on IS NULL OR t.last_attended_on < '{cutoff}')))
ORDER BY missing DESC, m.id"""


def largest_branch(kind: str) -> str:
    """The largest branch of a unit still in study, where gaps are looked for daily."""
    return f"""
SELECT b.id, COUNT(*) AS members
FROM branch b
JOIN unit_progress up ON up.unit_id = b.unit_id AND up.state = 'study'
JOIN member m ON m.branch_id = b.id AND {active(kind)}
GROUP BY b.id ORDER BY members DESC, b.id LIMIT 1"""
