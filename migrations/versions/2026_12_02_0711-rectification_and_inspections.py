"""Rectification items, inspections and their findings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:11:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('rectification_item',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', BIG_KEY, nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('member_id', BIG_KEY, nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=True),
    sa.Column('phase', sa.String(length=20), nullable=True),
    sa.Column('problem', sa.String(length=2000), nullable=False),
    sa.Column('measures', sa.String(length=2000), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rectification_item_branch_id_branch')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_rectification_item_created_by_app_user')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_rectification_item_member_id_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_rectification_item_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_item'))
    )
    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_item_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectification_item_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_rectification_item_unit_id_status', ['unit_id', 'status'], unique=False)
        batch_op.create_index('ix_rectification_item_source_source_ref', ['source', 'source_ref'], unique=False)

    op.create_table('rectification_step',
    sa.Column('id', BIG_KEY, nullable=False),
    sa.Column('item_id', BIG_KEY, nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['rectification_item.id'], name=op.f('fk_rectification_step_item_id_rectification_item')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_rectification_step_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_step'))
    )
    with op.batch_alter_table('rectification_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_step_item_id'), ['item_id'], unique=False)

    op.create_table('inspection',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('team', sa.JSON(), nullable=False),
    sa.Column('assessment', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_inspection_created_by_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_inspection_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection'))
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_unit_id_inspected_on', ['unit_id', 'inspected_on'], unique=False)

    op.create_table('inspection_finding',
    sa.Column('id', BIG_KEY, nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('rectification_id', BIG_KEY, nullable=True),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_inspection_finding_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectification_item.id'], name=op.f('fk_inspection_finding_rectification_id_rectification_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_finding'))
    )
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_finding_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_finding_rectification_id'), ['rectification_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_finding_rectification_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_finding_inspection_id'))

    op.drop_table('inspection_finding')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_unit_id_inspected_on')

    op.drop_table('inspection')
    with op.batch_alter_table('rectification_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_step_item_id'))

    op.drop_table('rectification_step')
    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_item_source_source_ref')
        batch_op.drop_index('ix_rectification_item_unit_id_status')
        batch_op.drop_index(batch_op.f('ix_rectification_item_member_id'))
        batch_op.drop_index(batch_op.f('ix_rectification_item_branch_id'))

    op.drop_table('rectification_item')
