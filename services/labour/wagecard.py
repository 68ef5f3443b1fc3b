"""Work types (工种) and the wage card of a labour member (rule 5 validation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from realname import error_codes as E
from realname.errors import ValidationError
from services import pii

# 工种: the trades offered when adding a labour member (and accepted by the import template).
WORK_TYPES: tuple[str, ...] = (
    "普工",
    "钢筋工",
    "木工",
    "架子工",
    "砌筑工",
    "混凝土工",
    "抹灰工",
    "油漆工",
    "防水工",
    "电工",
    "焊工",
    "水暖工",
    "管道工",
    "通风工",
    "起重工",
    "信号工",
    "塔吊司机",
    "司索工",
    "机械操作工",
    "测量工",
    "试验工",
    "装饰装修工",
    "幕墙安装工",
    "石工",
    "模板工",
    "钳工",
    "安装工",
    "保温工",
    "爆破工",
    "其他",
    # the national code table's trades (住建部 建筑工人工种, codes in services.enrolment), so a
    # member enrolled by a collection machine with one of them stays editable here
    "机械设备安装工",
    "安装起重工",
    "安装钳工",
    "电气设备安装调试工",
    "变电安装工",
    "建筑电工",
    "司泵工",
    "挖掘铲运和桩工机械司机",
    "桩机操作工",
    "起重信号工",
    "建筑起重机械安装拆卸工",
    "室内成套设施安装工",
    "建筑门窗幕墙安装工",
    "幕墙制作工",
    "电焊工",
    "除尘工",
    "测量放线工",
    "线路架设工",
    "古建筑传统石工",
    "古建筑传统瓦工",
    "古建筑传统彩画工",
    "古建筑传统木工",
    "古建筑传统油工",
    "金属工",
    "管工",
    "管理人员",
)
_BRANCH_CODE_RE = re.compile(r"^\d{12}$")


# --- members -------------------------------------------------------------------------------------


@dataclass
class WageCard:
    """A validated wage card and work type (rule 5)."""

    work_type: str
    bank_name: str
    bank_card: str
    bank_branch_code: str


def validate_work_type(value: Any, field: str = "work_type") -> str:
    """A work type (工种) from the list."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("请选择工种", code=E.REQUIRED.code, field=field)
    work_type = value.strip()
    if work_type not in WORK_TYPES:
        raise ValidationError(code=E.INVALID_WORK_TYPE.code, field=field)
    return work_type


def validate_bank_name(value: Any, field: str = "bank_name") -> str:
    """The wage-card bank (工资卡银行)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("请填写工资卡银行", code=E.REQUIRED.code, field=field)
    if len(value.strip()) > 64:
        raise ValidationError("工资卡银行名称不能超过64个字", field=field)
    return value.strip()


def validate_branch_code(value: Any, field: str = "bank_branch_code") -> str:
    """The bank branch code (联行号): 12 digits."""
    code = str(value).strip() if value is not None else ""
    if not code:
        raise ValidationError("请填写联行号", code=E.REQUIRED.code, field=field)
    if not _BRANCH_CODE_RE.match(code):
        raise ValidationError(code=E.INVALID_BRANCH_CODE.code, field=field)
    return code


def validate_wage_card(data: dict[str, Any]) -> WageCard:
    """Work type and the complete wage card, all required (rule 5)."""
    work_type = validate_work_type(data.get("work_type"))
    bank_name = validate_bank_name(data.get("bank_name"))
    card = pii.validate_bank_card(str(data.get("bank_card") or ""), field="bank_card")
    branch = validate_branch_code(data.get("bank_branch_code"))
    return WageCard(work_type, bank_name, card, branch)


def _card_columns(card: WageCard) -> dict[str, Any]:
    return {
        "work_type": card.work_type,
        "bank_name": card.bank_name,
        "bank_card_enc": pii.cipher().encrypt(card.bank_card),
        "bank_card_masked": pii.mask_bank_card(card.bank_card),
        "bank_branch_code": card.bank_branch_code,
    }
