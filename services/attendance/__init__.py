"""Attendance (rules 1 and 2): settling member-days, the pending marks of the punch pipeline,
monthly statistics, the member views and the exports.

One module per sub-area; this package re-exports the names the rest of the platform uses, so
``from services import attendance; attendance.settle_days(...)`` keeps working:

- ``clock``: project zones, local days, months (now and today: ``services.localtime``)
- ``labels``: the Chinese labels of day states, directions, sources and rejection reasons
- ``sql``: the raw-SQL helpers shared by settlement and statistics
- ``settlement``: rule 1 (``settle``) and writing settled days (Python and PostgreSQL paths)
- ``failures``: member-days whose settlement failed, set aside, listed, retried
- ``pending``: the marks the punch pipeline leaves, their drain, failures and retries
- ``sweep``: the closed-day sweep and the app's background tasks
- ``stats``: the monthly statistics pages and their filters
- ``overview``: one member's punches and month, the workbench summary
- ``export``: the monthly xlsx exports
"""

from services.attendance import clock
from services.attendance.clock import local_day, month_bounds, zone
from services.attendance.export import EXPORT_STYLES, export_columns, export_month
from services.attendance.failures import failed_days, retry_failed
from services.attendance.labels import REASON_LABELS
from services.attendance.overview import (
    member_day_punches,
    member_month,
    punch_photo_key,
    visible_member,
    workbench_summary,
)
from services.attendance.pending import kick_pending, settle_pending, wait_pending
from services.attendance.settlement import settle, settle_days, settle_range
from services.attendance.stats import StatsFilter, iter_month_rows, month_stats
from services.attendance.sweep import register_background, settle_closed_days

__all__ = [
    "EXPORT_STYLES",
    "REASON_LABELS",
    "StatsFilter",
    "clock",
    "export_columns",
    "export_month",
    "failed_days",
    "iter_month_rows",
    "kick_pending",
    "local_day",
    "member_day_punches",
    "member_month",
    "month_bounds",
    "month_stats",
    "punch_photo_key",
    "register_background",
    "retry_failed",
    "settle",
    "settle_closed_days",
    "settle_days",
    "settle_pending",
    "settle_range",
    "visible_member",
    "wait_pending",
    "workbench_summary",
    "zone",
]
