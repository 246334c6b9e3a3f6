"""Single sign-on identities, used sign-in states, and personal access tokens

A user signed in through an OpenID provider is known by the provider's issuer and
subject (`users.identity_issuer`, `users.identity_subject`, unique together). Each
completed provider sign-in keeps a digest of its `state` and `nonce`, so that neither
is accepted twice. An API token with a `name` is a personal access token made for a
script; one without is the token of a sign-in.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("identity_issuer", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("identity_subject", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(
            "uq_users_identity_issuer", ["identity_issuer", "identity_subject"]
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(length=100), nullable=True))
    op.create_table(
        "oidc_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("nonce_digest", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sign_ins")),
        sa.UniqueConstraint("state_digest", name=op.f("uq_oidc_sign_ins_state_digest")),
        sa.UniqueConstraint("nonce_digest", name=op.f("uq_oidc_sign_ins_nonce_digest")),
    )


def downgrade() -> None:
    op.drop_table("oidc_sign_ins")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_identity_issuer", type_="unique")
        batch.drop_column("identity_subject")
        batch.drop_column("identity_issuer")
