"""Concrete standards and democratic evaluations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:12:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('standard_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('from_template', sa.String(length=20), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_standard_version_created_by_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_standard_version_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_version')),
    sa.UniqueConstraint('unit_id', 'version', name=op.f('uq_standard_version_unit_id_version'))
    )
    op.create_table('standard_item',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('post', sa.String(length=100), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['standard_version.id'], name=op.f('fk_standard_item_version_id_standard_version')),
    sa.PrimaryKeyConstraint('version_id', 'position', name=op.f('pk_standard_item'))
    )
    op.create_table('evaluation',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', BIG_KEY, nullable=False),
    sa.Column('rating', sa.String(length=30), nullable=False),
    sa.Column('measure', sa.String(length=30), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evaluated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_evaluation_batch_id_batch')),
    sa.ForeignKeyConstraint(['evaluated_by'], ['app_user.id'], name=op.f('fk_evaluation_evaluated_by_app_user')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_evaluation_member_id_member')),
    sa.PrimaryKeyConstraint('batch_id', 'member_id', name=op.f('pk_evaluation'))
    )


def downgrade() -> None:
    op.drop_table('evaluation')
    op.drop_table('standard_item')
    op.drop_table('standard_version')
