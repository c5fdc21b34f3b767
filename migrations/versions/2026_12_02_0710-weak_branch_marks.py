"""Weak-branch marks and consolidation plans.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('weak_branch_mark',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('plan', sa.String(length=4000), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_weak_branch_mark_branch_id_branch')),
    sa.ForeignKeyConstraint(['marked_by'], ['app_user.id'], name=op.f('fk_weak_branch_mark_marked_by_app_user')),
    sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_weak_branch_mark'))
    )
    with op.batch_alter_table('weak_branch_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weak_branch_mark_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('weak_branch_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weak_branch_mark_status'))

    op.drop_table('weak_branch_mark')
