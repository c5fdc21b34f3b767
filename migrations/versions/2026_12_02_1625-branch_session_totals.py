"""Branches' session totals per batch and phase, filled from the sessions recorded.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:25:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The session formats when this revision was written (app/study/enums.py SessionFormat).
FORMATS = (
    'collective_study', 'party_lecture', 'tutorial_report', 'seminar',
    'distance_learning', 'home_delivery', 'self_study', 'make_up',
)


def upgrade() -> None:
    op.create_table('branch_session_total',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('leader_lectures', sa.Integer(), nullable=False),
    sa.Column('last_held_on', sa.Date(), nullable=True),
    *(sa.Column(f'{fmt}_sessions', sa.Integer(), nullable=False) for fmt in FORMATS),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_branch_session_total_batch_id_batch')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_branch_session_total_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', 'batch_id', 'phase', name=op.f('pk_branch_session_total'))
    )
    # The sessions already recorded, as the running totals would have counted them.
    per_format = ''.join(
        f", SUM(CASE WHEN format = '{fmt}' THEN 1 ELSE 0 END)" for fmt in FORMATS
    )
    op.execute(
        "INSERT INTO branch_session_total (branch_id, batch_id, phase, sessions,"
        " leader_lectures, last_held_on"
        + ''.join(f', {fmt}_sessions' for fmt in FORMATS)
        + ") SELECT branch_id, batch_id, phase, COUNT(*),"
        " SUM(CASE WHEN lecturer_is_leading_cadre THEN 1 ELSE 0 END), MAX(held_on)"
        + per_format
        + " FROM study_session GROUP BY branch_id, batch_id, phase"
    )


def downgrade() -> None:
    op.drop_table('branch_session_total')
