"""Offices: the ministry in Lima and the regional offices, their advisors, and the office of a conversation
(bot/offices/schema.py, handoff_tickets.office_id).

The main office is created here ("lima", serving Lima and Callao, with the service's hours) and every
account that exists gets it, so the queue works as before until a regional office is added.

Revision ID: offices_0001
Revises: 0004
Create Date: 2026-12-04
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "offices_0001"
down_revision = "0004"
branch_labels = ("offices",)
depends_on = None


def upgrade() -> None:
    offices = op.create_table(
        "offices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("regions", sa.String(400), nullable=False),
        sa.Column("hours", sa.String(200), nullable=True),
        sa.Column("is_main", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "desk_user_offices",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_desk_user_offices_office_id", "desk_user_offices", ["office_id"])
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.add_column(sa.Column("office_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_handoff_tickets_office_id", "offices", ["office_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_handoff_tickets_office_id", ["office_id"])
    op.bulk_insert(offices, [{"id": 1, "slug": "lima", "name": "Sede central (Lima)", "regions": "lima callao", "hours": None,
                              "is_main": True, "active": True, "created_at": dt.datetime.now(dt.timezone.utc)}])
    op.execute("INSERT INTO desk_user_offices (user_id, office_id) SELECT id, 1 FROM desk_users")
    op.execute("UPDATE handoff_tickets SET office_id = 1")
    if op.get_bind().dialect.name == "postgresql":  # the explicit id above did not move the sequence
        op.execute("SELECT setval(pg_get_serial_sequence('offices', 'id'), (SELECT MAX(id) FROM offices))")


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.drop_index("ix_handoff_tickets_office_id")
        batch.drop_constraint("fk_handoff_tickets_office_id", type_="foreignkey")
        batch.drop_column("office_id")
    op.drop_table("desk_user_offices")
    op.drop_table("offices")
