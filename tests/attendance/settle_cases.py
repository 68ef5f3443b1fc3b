"""Rule 1 and 2 as one table: the daily result every settlement path must give.

The rule is written twice (Python's ``settle()``, used by SQLite's path and ``settle_range``, and
PostgreSQL's one-statement ``_PG_SETTLE``, used by ``settle_days`` and the pending sweep);
``test_settle_table.py`` runs every case below through every path of the engine it runs on.

A case lists punches in the project's local time, in the order they arrive (``|`` starts a batch
that arrives after the earlier ones were settled), and the expected result of each day named.
A punch is ``"YYYY-MM-DD HH:MM[:SS] in|out"``, with ``" rejected"`` appended for a punch kept for
diagnosis (rule 3) that must not count. Expected days: ``(state, first in, last out, seconds,
punch count)`` with times as ``"YYYY-MM-DD HH:MM[:SS]"`` (local) or None; ``ABSENT`` means no row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from models import DayState

SHANGHAI = "Asia/Shanghai"
# The moment the cases settle at (project-local): every case day is closed unless a case says so.
NOW = "2028-06-01 12:00"

Expected = tuple[DayState, str | None, str | None, int, int]
ABSENT: Expected = (DayState.ABSENT, None, None, 0, 0)


@dataclass(frozen=True)
class Punch:
    """One punch of a case: an aware moment, its direction, whether it was accepted."""

    time: dt.datetime
    direction: str
    accepted: bool


@dataclass(frozen=True)
class SettleCase:
    """A row of the table: punches (in arrival batches) and each day's expected result."""

    name: str
    punches: str
    days: dict[str, Expected]
    zone: str = SHANGHAI
    now: str = NOW
    notes: str = field(default="", compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def now_moment(self) -> dt.datetime:
        """When the case settles, an aware moment (the engine's clock is set to it)."""
        return dt.datetime.fromisoformat(self.now).replace(tzinfo=self.tz)

    @property
    def today(self) -> dt.date:
        """The project's today at ``now``."""
        return self.now_moment.date()

    def batches(self) -> list[list[Punch]]:
        """The punches, batch by batch, as aware moments in the case's zone."""
        out = []
        for batch in self.punches.split("|"):
            items = []
            for line in filter(None, (x.strip() for x in batch.split(","))):
                day, clock, direction, *rest = line.split()
                when = dt.datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=self.tz)
                items.append(Punch(when, direction, rest != ["rejected"]))
            out.append(items)
        return out

    def moment(self, text: str | None) -> dt.datetime | None:
        """An expected local time of this case as an aware moment."""
        return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=self.tz)

    def expected(self) -> dict[dt.date, Expected]:
        return {dt.date.fromisoformat(d): e for d, e in self.days.items()}


N, A, T = DayState.NORMAL, DayState.ABNORMAL, DayState.TODAY
H = 3600

CASES: list[SettleCase] = [
    SettleCase(
        "in_then_out",
        "2028-04-12 08:00 in, 2028-04-12 17:30 out",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:30", 9 * H + 1800, 2)},
    ),
    SettleCase(
        "only_in",
        "2028-04-12 08:00 in",
        {"2028-04-12": (A, "2028-04-12 08:00", None, 0, 1)},
    ),
    SettleCase(
        "only_out",
        "2028-04-12 17:00 out",
        {"2028-04-12": (A, None, "2028-04-12 17:00", 0, 1)},
    ),
    SettleCase(
        "out_before_in",
        "2028-04-12 08:00 out, 2028-04-12 17:00 in",
        {"2028-04-12": (A, "2028-04-12 17:00", "2028-04-12 08:00", 0, 2)},
    ),
    SettleCase(
        "first_in_after_last_out",
        "2028-04-12 07:00 in, 2028-04-12 06:30 out, 2028-04-12 09:00 in",
        {"2028-04-12": (A, "2028-04-12 07:00", "2028-04-12 06:30", 0, 3)},
    ),
    SettleCase(
        "in_and_out_at_the_same_second",
        "2028-04-12 08:00 in, 2028-04-12 08:00 out",
        {"2028-04-12": (A, "2028-04-12 08:00", "2028-04-12 08:00", 0, 2)},
    ),
    SettleCase(
        "several_ins_and_outs_count_first_in_to_last_out",
        "2028-04-12 07:00 in, 2028-04-12 12:00 out, 2028-04-12 13:00 in, 2028-04-12 18:00 out",
        {"2028-04-12": (N, "2028-04-12 07:00", "2028-04-12 18:00", 11 * H, 4)},
    ),
    SettleCase(
        "two_ins_two_outs",
        "2028-04-12 09:00 in, 2028-04-12 08:00 in, 2028-04-12 10:00 out, 2028-04-12 17:00 out",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:00", 9 * H, 4)},
    ),
    SettleCase(
        "duplicate_punches_count_each_time",
        "2028-04-12 08:00 in, 2028-04-12 08:00 in, 2028-04-12 17:00 out, 2028-04-12 17:00 out",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:00", 9 * H, 4)},
    ),
    SettleCase(
        "out_of_order_arrival_in_one_batch",
        "2028-04-12 17:00 out, 2028-04-12 12:00 out, 2028-04-12 08:00 in",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:00", 9 * H, 3)},
    ),
    SettleCase(
        "late_batch_resettles_the_day",
        "2028-04-12 17:00 out | 2028-04-12 08:00 in",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:00", 9 * H, 2)},
        notes="a handset offline: the out settles alone (abnormal), the late in re-settles it",
    ),
    SettleCase(
        "late_batch_widens_a_normal_day",
        "2028-04-12 08:00 in, 2028-04-12 17:00 out | 2028-04-12 19:00 out, 2028-04-12 07:00 in",
        {"2028-04-12": (N, "2028-04-12 07:00", "2028-04-12 19:00", 12 * H, 4)},
    ),
    SettleCase(
        "late_batch_out_of_order_keeps_the_days_first_in_and_last_out",
        "2028-04-12 08:00 in, 2028-04-12 17:00 out | 2028-04-12 07:00 out, 2028-04-12 18:00 in",
        {"2028-04-12": (N, "2028-04-12 08:00", "2028-04-12 17:00", 9 * H, 4)},
        notes="an out before the first in and an in after the last out arrive late: the day is"
        " still first in 08:00 to last out 17:00",
    ),
    SettleCase(
        "rejected_punches_do_not_count",
        "2028-04-12 08:00 in, 2028-04-12 17:00 out rejected",
        {"2028-04-12": (A, "2028-04-12 08:00", None, 0, 1)},
    ),
    SettleCase(
        "only_rejected_punches_is_absent",
        "2028-04-12 08:00 in rejected, 2028-04-12 17:00 out rejected",
        {"2028-04-12": ABSENT},
    ),
    SettleCase(
        "midnight_crossing_splits_into_two_abnormal_days",
        "2028-04-11 22:00 in, 2028-04-12 06:00 out",
        {
            "2028-04-11": (A, "2028-04-11 22:00", None, 0, 1),
            "2028-04-12": (A, None, "2028-04-12 06:00", 0, 1),
        },
    ),
    SettleCase(
        "first_and_last_second_of_a_day",
        "2028-04-11 23:59:59 in, 2028-04-12 00:00:00 in, 2028-04-12 23:59:59 out,"
        " 2028-04-13 00:00:00 out",
        {
            "2028-04-11": (A, "2028-04-11 23:59:59", None, 0, 1),
            "2028-04-12": (N, "2028-04-12 00:00", "2028-04-12 23:59:59", 24 * H - 1, 2),
            "2028-04-13": (A, None, "2028-04-13 00:00", 0, 1),
        },
    ),
    SettleCase(
        "month_end",
        "2028-04-30 08:00 in, 2028-04-30 23:59 out, 2028-05-01 00:00 out",
        {
            "2028-04-30": (N, "2028-04-30 08:00", "2028-04-30 23:59", 15 * H + 59 * 60, 2),
            "2028-05-01": (A, None, "2028-05-01 00:00", 0, 1),
        },
    ),
    SettleCase(
        "leap_day",
        "2028-02-28 23:30 in, 2028-02-29 08:00 in, 2028-02-29 17:00 out, 2028-03-01 00:10 out",
        {
            "2028-02-28": (A, "2028-02-28 23:30", None, 0, 1),
            "2028-02-29": (N, "2028-02-29 08:00", "2028-02-29 17:00", 9 * H, 2),
            "2028-03-01": (A, None, "2028-03-01 00:10", 0, 1),
        },
    ),
    SettleCase(
        "year_end",
        "2027-12-31 20:00 in, 2027-12-31 23:00 out, 2028-01-01 00:30 in",
        {
            "2027-12-31": (N, "2027-12-31 20:00", "2027-12-31 23:00", 3 * H, 2),
            "2028-01-01": (A, "2028-01-01 00:30", None, 0, 1),
        },
    ),
    SettleCase(
        "no_punch_is_absent",
        "2028-04-12 08:00 in, 2028-04-12 17:00 out",
        {"2028-04-13": ABSENT},
    ),
    SettleCase(
        "today_only_in_stays_open",
        "2028-06-01 08:00 in",
        {"2028-06-01": (T, "2028-06-01 08:00", None, 0, 1)},
    ),
    SettleCase(
        "today_stays_open",
        "2028-06-01 08:00 in, 2028-06-01 17:00 out",
        {"2028-06-01": (T, "2028-06-01 08:00", "2028-06-01 17:00", 0, 2)},
        notes="rule 2: the day closes at 24:00; until then no duration",
    ),
    SettleCase(
        "today_out_before_in_stays_open",
        "2028-06-01 08:00 out, 2028-06-01 09:00 in",
        {"2028-06-01": (T, "2028-06-01 09:00", "2028-06-01 08:00", 0, 2)},
    ),
    SettleCase(
        "yesterday_is_closed",
        "2028-05-31 08:00 in, 2028-05-31 17:00 out",
        {"2028-05-31": (N, "2028-05-31 08:00", "2028-05-31 17:00", 9 * H, 2)},
    ),
    SettleCase(
        "the_projects_zone_decides_the_day",
        "2028-04-12 23:00 in, 2028-04-12 23:45 out",
        {"2028-04-12": (N, "2028-04-12 23:00", "2028-04-12 23:45", 45 * 60, 2)},
        zone="Asia/Urumqi",
        notes="UTC+6: in Shanghai both punches would fall on the 13th",
    ),
    SettleCase(
        "the_projects_zone_decides_today",
        "2028-06-01 22:30 in, 2028-06-01 23:15 out",
        {"2028-06-01": (T, "2028-06-01 22:30", "2028-06-01 23:15", 0, 2)},
        zone="Asia/Urumqi",
        now="2028-06-01 23:30",
        notes="already 06-02 in Shanghai, still 06-01 on the project: the day stays open",
    ),
    SettleCase(
        "duration_is_elapsed_time_across_a_clock_change",
        "2028-03-26 00:30 in, 2028-03-26 03:30 out",
        {"2028-03-26": (N, "2028-03-26 00:30", "2028-03-26 03:30", 2 * H, 2)},
        zone="Europe/London",
        notes="clocks go forward at 01:00 UTC: 00:30 GMT to 03:30 BST is two hours",
    ),
]
