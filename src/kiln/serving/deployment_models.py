"""The ``deployments`` table: a name in the URL, the model version it answers with, and a revision.

A deployment names a model and a version reference as the user wrote it (``3``, ``1.0.0``,
``production``, ``@champion``); ``version_id`` is what that reference resolves to now. A reference
that follows a stage or an alias is re-resolved when the registry moves it (``deployments.py``).

``revision`` is one counter over the whole table: every change to any deployment takes
``max(revision) + 1`` (unique, so two writers racing for the same number cannot both win). A serving
process polls ``max(revision)`` (one index lookup) and reloads its routes only when it moved.
The revision is also the row's version for the ORM: an update says ``WHERE revision = <the one read>``,
so of two changes to one deployment at once, the later cannot silently overwrite the earlier under
the same number (serving processes would never notice it); it fails, and the service answers 409.
Undeploying keeps the row (``status = stopped``): the number only grows, and the prediction log keeps
naming something that exists.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, TimestampMixin

BigIntRevision = BigInteger().with_variant(Integer(), "sqlite")

NAME_LENGTH = 128
ACTOR_LENGTH = 256


class Deployment(IdMixin, TimestampMixin, Base):
    __tablename__ = "deployments"

    # Globally unique: it is the URL (/api/v1/deployments/{name}/predict, /v2/models/{name}).
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="RESTRICT"), index=True)
    version_ref: Mapped[str] = mapped_column(String(160))
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="RESTRICT"), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # "active" | "stopped" (kiln.serving.deployment_schemas.DeploymentStatus)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH), default="")
    revision: Mapped[int] = mapped_column(BigIntRevision, unique=True)

    # Set by the services (the next table-wide number), checked by the ORM on every update.
    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}  # noqa: RUF012
