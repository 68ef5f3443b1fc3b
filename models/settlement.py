"""Pending settlements: the (member, day) pairs whose settled day is owed after new punches."""

from tortoise import fields
from tortoise.models import Model


class PendingSettlement(Model):
    """A member-day to re-settle, written in the same transaction as the punches that touch it.

    The punch pipeline replies once the punches and these rows are committed; the day is settled
    right after (``services.attendance.settle_pending``) and the row deleted only if it was not
    marked again meanwhile (``version``). A crash between the commit and the settlement leaves
    the row, and the start-up / periodic sweep settles it: no late punch is ever left unsettled.
    """

    id = fields.BigIntField(primary_key=True)
    project_id = fields.IntField()
    member_id = fields.IntField()
    day = fields.DateField()
    version = fields.IntField(default=0)  # bumped by every new mark of the same member-day

    class Meta:
        table = "settle_pending"
        unique_together = (("member_id", "day"),)
