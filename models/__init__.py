"""Tortoise models, one module per aggregate, re-exported here (app label ``models``)."""

import pkgutil

from models.accounts import Account, AccountKind
from models.attendance import DailyAttendance, DayState, Direction, Punch, PunchSource, PunchStatus
from models.audit import AuditLog
from models.devices import (
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceKind,
    FirmwarePackage,
    UnregisteredDevice,
    UpgradeStatus,
)
from models.org import (
    Enterprise,
    KeyPersonnel,
    ManagingLevel,
    ParticipatingUnit,
    Project,
    Region,
    RegionLevel,
    UnitRole,
)
from models.people import Person, PersonType, Post, ProjectMember, Team, WorkStatus

__all__ = [
    "Account",
    "AccountKind",
    "AuditLog",
    "CommandStatus",
    "DailyAttendance",
    "DayState",
    "Device",
    "DeviceCommand",
    "DeviceKind",
    "Direction",
    "Enterprise",
    "FirmwarePackage",
    "KeyPersonnel",
    "ManagingLevel",
    "ParticipatingUnit",
    "Person",
    "PersonType",
    "Post",
    "Project",
    "ProjectMember",
    "Punch",
    "PunchSource",
    "PunchStatus",
    "Region",
    "RegionLevel",
    "Team",
    "UnitRole",
    "UnregisteredDevice",
    "UpgradeStatus",
    "WorkStatus",
]

# Modules Tortoise loads for the app label "models": every module of this package, so a later
# aggregate (contracts, materials, approvals...) only has to add its module file.
MODEL_MODULES = sorted(
    f"models.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
)
