"""Organisation registry: districts, units, branches, members and their transfers.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 11:44:19.211534+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('district',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('code', name=op.f('uq_district_code'))
    )
    op.create_table('unit',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_unit_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_district_id'), ['district_id'], unique=False)

    op.create_table('branch',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('secretary_name', sa.String(length=50), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_branch_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch')),
    sa.UniqueConstraint('code', name=op.f('uq_branch_code'))
    )
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_branch_unit_id'), ['unit_id'], unique=False)

    op.create_table('member',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('is_migrant', sa.Boolean(), nullable=False),
    sa.Column('is_outgoing', sa.Boolean(), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.Column('is_infirm', sa.Boolean(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_member_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('id_number', name=op.f('uq_member_id_number'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_status'), ['status'], unique=False)

    op.create_table('member_transfer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_branch_id', sa.Integer(), nullable=False),
    sa.Column('to_branch_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('transferred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_branch_id'], ['branch.id'], name=op.f('fk_member_transfer_from_branch_id_branch')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_transfer_member_id_member')),
    sa.ForeignKeyConstraint(['to_branch_id'], ['branch.id'], name=op.f('fk_member_transfer_to_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_transfer'))
    )
    with op.batch_alter_table('member_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_transfer_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('member_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_transfer_member_id'))

    op.drop_table('member_transfer')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_status'))
        batch_op.drop_index(batch_op.f('ix_member_branch_id'))

    op.drop_table('member')
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_branch_unit_id'))

    op.drop_table('branch')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_district_id'))

    op.drop_table('unit')
    op.drop_table('district')
