"""Pending settlements: the (member, day) pairs whose settled day is owed after new punches."""

from tortoise import fields
from tortoise.models import Model


class PendingSettlement(Model):
    """A member-day to re-settle, written in the same transaction as the punches that touch it.

    Marks are append-only and conflict-free: every batch inserts its own rows (no unique key, no
    update), so concurrent uploads never wait on each other's marks. The punch pipeline replies
    once the punches and these rows are committed; the day is settled right after
    (``services.attendance.settle_pending``), which claims marks (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), settles their days and deletes exactly the marks it claimed; a mark written
    meanwhile is a new row, settled on the next pass. A crash between the commit and the
    settlement leaves the rows, and the start-up / periodic sweep settles them: no late punch is
    ever left unsettled.

    A member-day whose settlement fails is *set aside*: ``error``, ``failed_at`` and ``attempts``
    are recorded and it is retried only from ``retry_at`` on (backing off), while every other day
    keeps settling. ``realname settlement failed`` lists them.
    """

    id = fields.BigIntField(primary_key=True)
    project_id = fields.IntField()
    member_id = fields.IntField()
    day = fields.DateField()
    attempts = fields.IntField(default=0)  # failed settlement attempts
    error = fields.TextField(null=True)  # the last failure (no personal data)
    failed_at = fields.DatetimeField(null=True)
    retry_at = fields.DatetimeField(null=True)  # set aside until then (None: ready)

    class Meta:
        table = "settle_pending"
        indexes = (("member_id", "day"), ("retry_at",))
