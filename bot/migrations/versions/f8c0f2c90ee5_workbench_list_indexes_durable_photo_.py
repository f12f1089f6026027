"""workbench list indexes, durable photo copies

Revision ID: f8c0f2c90ee5
Revises: e97e87c7ea1b
Create Date: 2026-12-01

The workbench lists tickets newest first within a village, a town or a patch; photos get a
durable copy (WeCom keeps media 3 days) fetched by a job, with its place and retry state.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f8c0f2c90ee5'
down_revision = 'e97e87c7ea1b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_patch_number', ['patch_code', 'number'], unique=False)
        batch_op.create_index('ix_ticket_town_number', ['town', 'number'], unique=False)
        batch_op.create_index('ix_ticket_village_number', ['village', 'number'], unique=False)

    with op.batch_alter_table('ticket_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stored_key', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('content_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('stored_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_fetch_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('fetch_error', sa.Text(), nullable=True))
        batch_op.create_index('ix_ticket_media_unstored', ['stored_key', 'next_fetch_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_media', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_media_unstored')
        batch_op.drop_column('fetch_error')
        batch_op.drop_column('next_fetch_at')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('stored_at')
        batch_op.drop_column('content_type')
        batch_op.drop_column('stored_key')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_village_number')
        batch_op.drop_index('ix_ticket_town_number')
        batch_op.drop_index('ix_ticket_patch_number')

