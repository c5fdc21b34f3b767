"""The demo's democratic evaluations (issue 9, item 6): every member of units past evaluation
evaluated, units in evaluation part way, a rectification item per low rating."""

from collections import Counter

import sqlalchemy as sa
from sqlmodel import Session

from app.auth.principal import SYSTEM
from app.campaign.models import PhaseMove, UnitProgress
from app.clock import utcnow
from app.demo import seed_demo
from app.demo.phases import demo_user_units
from app.evaluation.enums import Measure, Rating
from app.evaluation.gate import not_evaluated
from app.evaluation.models import Evaluation
from app.evaluation.report import evaluation_report
from app.org.models import Branch, Member
from app.rectification.models import RectificationItem
from app.reports.enums import ReportLevel


def test_the_demo_evaluates_units_past_study_as_their_phase_has_it(engine):
    result = seed_demo(engine, scale=0.05, seed=7)
    with Session(engine) as s:
        progress = {p.unit_id: p for p in s.scalars(sa.select(UnitProgress))}
        evaluations = s.scalars(sa.select(Evaluation)).all()
        assert result.evaluations == len(evaluations) > 0
        batch_id = next(iter(progress.values())).batch_id
        assert {e.batch_id for e in evaluations} == {batch_id}

        # The gate agrees with the phases: units past evaluation have nobody left to
        # evaluate; units in it are some ready, some not (the demo users' one among those).
        left = {
            u: not_evaluated(s, u, batch_id)[0]
            for u, p in progress.items()
            if p.state in ("evaluation", "rectification", "completed")
        }
        later = [u for u in left if progress[u].state != "evaluation"]
        during = [u for u in left if progress[u].state == "evaluation"]
        assert later and all(left[u] == 0 for u in later)
        assert any(left[u] for u in during) and any(not left[u] for u in during)
        shown = [u for u in demo_user_units(s.connection()) if progress[u].state == "evaluation"]
        assert shown and all(left[u] for u in shown)

        # Only active members of units past study, each evaluated while their unit was in
        # evaluation (after it entered, before it left).
        member_unit = dict(
            s.execute(
                sa.select(Member.id, Branch.unit_id)
                .join(Branch, Branch.id == Member.branch_id)
                .where(Member.status == "active")
            ).all()
        )
        entered = {(m.unit_id, m.to_state): m.at for m in s.scalars(sa.select(PhaseMove))}
        for e in evaluations:
            unit = member_unit[e.member_id]
            assert progress[unit].state in ("evaluation", "rectification", "completed")
            left_at = entered.get((unit, "rectification"), utcnow())
            assert entered[(unit, "evaluation")] <= e.evaluated_at <= left_at
            rating = Rating(e.rating)
            assert (e.measure is not None) == rating.needs_measure
            if e.measure and Measure(e.measure).only_unqualified:
                assert rating is Rating.unqualified
            assert e.comment or not rating.needs_measure

        ratings = Counter(e.rating for e in evaluations)
        assert set(ratings) == set(Rating.codes())
        assert ratings["qualified"] > 0.6 * len(evaluations)
        assert ratings["unqualified"] < ratings["basically_qualified"] < ratings["excellent"]

        # One item per low rating, opened as the API opens it; a completed unit's verified.
        items = s.scalars(
            sa.select(RectificationItem).where(RectificationItem.source == "evaluation")
        ).all()
        low = {e.member_id: e for e in evaluations if Rating(e.rating).needs_measure}
        assert sorted(i.member_id for i in items) == sorted(low)
        branch_of = dict(s.execute(sa.select(Member.id, Member.branch_id)).all())
        for item in items:
            e = low[item.member_id]
            assert item.source_ref == f"evaluation:{batch_id}:{item.member_id}"
            assert item.branch_id == branch_of[item.member_id]
            assert item.unit_id == member_unit[item.member_id]
            assert item.measures == Measure(e.measure).label and item.phase == "evaluation"
            assert item.deadline >= e.evaluated_at.date()
            state = progress[item.unit_id].state
            if state == "completed":
                assert item.status == "verified"
            if state == "evaluation":
                assert item.status in ("open", "in_progress")

        # The report's city row counts what was written.
        report = evaluation_report(s, SYSTEM, ReportLevel.city)
        assert report.total.evaluated == len(evaluations)
        assert report.total.not_evaluated == sum(left.values()) > 0
