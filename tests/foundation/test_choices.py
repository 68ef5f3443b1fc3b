"""A choice outside its values is refused naming them (permit import) or as 「…取值无效」 (list
filters, which leave the query alone when no value is given); a permit row's lists are refused
item by item; list rows are numbered across pages; an enum member is declared with its label."""

import pytest

from models._labels import LabelledEnum
from models.org import UnitRole
from models.people import WORK_STATUS_LABELS, WorkStatus
from realname import error_codes as E
from realname.errors import ValidationError
from services.listing import filter_choice, numbered
from services.projects import parse_project_row

ROW = {"code": "P1", "name": "项目", "region_code": "630102"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"managing_level": "town"}, "managing_level", "管理层级应为 county / city / province"),
        (
            {"units": [{"role": "owner"}]},
            "units[0].role",
            "责任主体应为 builder / supervisor / general_contractor",
        ),
        (
            {"key_personnel": [{"role": "boss"}]},
            "key_personnel[0].role",
            "岗位应为 project_manager / chief_supervisor",
        ),
        ({"units": {"role": "builder"}}, "units", "参建单位应为列表"),
        ({"key_personnel": ["张三"]}, "key_personnel[0]", "关键岗位人员应为对象"),
    ],
)
def test_permit_row_refusals(change: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_project_row({**ROW, **change}, {"630102"})
    assert (refused.value.field, refused.value.message) == (field, message)


def test_filter_choice() -> None:
    query = object()
    assert filter_choice(query, "role", None, UnitRole, "责任主体") is query  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        filter_choice(query, "role", "owner", UnitRole, "责任主体")  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == (E.INVALID_CHOICE.code, "role")
    assert refused.value.message == "责任主体取值无效"


def test_numbered_across_pages() -> None:
    assert list(numbered("ab", 3, 10)) == [(21, "a"), (22, "b")]


def test_labelled_enum() -> None:
    assert WorkStatus("left") is WorkStatus.LEFT and WorkStatus.LEFT == "left"
    assert WorkStatus.LEFT.label == "离职"
    assert WORK_STATUS_LABELS == {"active": "在职", "left": "离职"}
    with pytest.raises(TypeError, match="has no label"):

        class Unlabelled(LabelledEnum):
            ONLY = "only"
