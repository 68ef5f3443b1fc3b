"""Times shown to people: the project's local time, ISO 8601 with its offset, whole seconds.

Moments are stored in UTC; people read them in the project's time zone (``Project.timezone``, else
the ``TIMEZONE`` setting, Asia/Shanghai for Qinghai). This module is the one place that turns a
stored moment into what a reply or an export shows:

* JSON replies go through :func:`json_default` (the ``default`` of the one JSON encoder in
  ``realname.web.ok``): a datetime becomes ``2026-11-01T07:34:00+08:00``, a date ``2026-11-01``,
  a time of day ``07:34:00``.
* The zone of a reply is the project the route's declaration resolved (``realname.contract``'s
  access check calls :func:`use_project`); replies not about one project use the setting.
* Spreadsheet cells get :func:`excel_value`: a naive local datetime without microseconds.

It is also the platform's one clock: :func:`now` is the current moment and :func:`today` /
:func:`project_today` the date in a zone; nothing else reads the system clock for a date that
rules depend on. Tests move the clock with :func:`set_now` (the ``clock`` fixture).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.settings import Settings, get_settings

_reply_zone: ContextVar[ZoneInfo | None] = ContextVar("reply_zone", default=None)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_default: ZoneInfo | None = None


def configure(settings: Settings) -> ZoneInfo:
    """Take the platform's zone from the settings (app start, CLI)."""
    global _default
    _default = _zone(settings.timezone) or ZoneInfo("Asia/Shanghai")
    return _default


def default_zone() -> ZoneInfo:
    """The platform's zone (the ``TIMEZONE`` setting; Asia/Shanghai if that is not a zone)."""
    return _default or configure(get_settings())


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo of a zone name; the platform's zone when unset or unknown."""
    return (_zone(name) if name else None) or default_zone()


def project_zone(project: Any) -> ZoneInfo:
    """A project's zone (``Project.timezone``)."""
    return zone(getattr(project, "timezone", None))


def reset_reply_zone() -> None:
    """A new request: its times are in the platform's zone until a project is resolved."""
    _reply_zone.set(None)


def use_project(project: Any) -> ZoneInfo:
    """Show this request's times in the project's zone (set once the project is resolved)."""
    tz = project_zone(project)
    _reply_zone.set(tz)
    return tz


def reply_zone() -> ZoneInfo:
    """The zone of the current reply: the project's, else the platform's."""
    return _reply_zone.get() or default_zone()


def local(moment: dt.datetime, tz: ZoneInfo | None = None) -> dt.datetime:
    """A moment in `tz` (the reply's zone by default), whole seconds; naive values are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz or reply_zone()).replace(microsecond=0)


def iso(moment: dt.datetime | None, tz: ZoneInfo | None = None) -> str | None:
    """``2026-11-01T07:34:00+08:00``: ISO 8601 with the offset, seconds precision."""
    return None if moment is None else local(moment, tz).isoformat()


def sqlite_text(moment: dt.datetime) -> str:
    """A moment as SQLite holds it: UTC text (``isoformat(" ")``), so that the moments of a
    column compare and sort as text whatever offset they arrived with (a terminal's +08:00, a
    handset's Z). The sqlite3 adapter for every datetime the ORM writes or filters by
    (``realname.dbclient.sqlite``), and the statements that bypass the ORM."""
    if moment.tzinfo is not None and moment.utcoffset():
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01 00:00+08:00 has no UTC equivalent: kept as it is
            pass
    return moment.isoformat(" ")


# --- the clock -----------------------------------------------------------------------------------

_now: Callable[[], dt.datetime] | None = None


def now() -> dt.datetime:
    """The current moment, aware, in UTC: the platform's one clock."""
    return dt.datetime.now(dt.UTC) if _now is None else _now().astimezone(dt.UTC)


def set_now(moment: dt.datetime | Callable[[], dt.datetime] | None) -> None:
    """Set the clock (tests): a fixed aware moment, a function giving the moment, or None for
    the system clock again."""
    global _now
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("the clock needs an aware moment")
        fixed = moment
        _now = lambda: fixed  # noqa: E731 - a one-line clock
    else:
        _now = moment


def today(tz: ZoneInfo | None = None) -> dt.date:
    """Today's date in `tz` (the reply's zone by default)."""
    return now().astimezone(tz or reply_zone()).date()


def project_today(project: Any) -> dt.date:
    """Today in a project's zone (``Project.timezone``): contract warnings, open days, exits."""
    return today(project_zone(project))


def json_default(value: Any) -> Any:
    """The JSON encoder's fallback: local ISO datetimes, plain dates and times, else ``str``."""
    if isinstance(value, dt.datetime):
        return local(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def excel_value(value: Any, tz: ZoneInfo | None = None) -> Any:
    """A spreadsheet cell value: datetimes as naive local times without microseconds."""
    if isinstance(value, dt.datetime):
        return local(value, tz).replace(tzinfo=None)
    return value
