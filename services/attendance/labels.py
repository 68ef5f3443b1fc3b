"""Chinese labels of day states, punch directions, sources and rejection reasons."""

from __future__ import annotations

from typing import cast

from models import DayState, Direction, PunchSource
from models.people import POST_LABELS

STATE_LABELS = {
    DayState.NORMAL: "正常出勤",
    DayState.ABNORMAL: "异常出勤",
    DayState.TODAY: "当日出勤（未统计时长）",
    DayState.ABSENT: "未出勤",
}
DIRECTION_LABELS = {Direction.IN: "进场", Direction.OUT: "出场"}
SOURCE_LABELS = {
    PunchSource.DEVICE: "考勤设备",
    PunchSource.MOBILE: "移动考勤",
    PunchSource.SUPPLEMENT: "考勤补录",
}
# Plain-Chinese reasons for rejected punches ("I punched but nothing shows").
REASON_LABELS = {
    "no_liveness": "未检测到活体",
    "contract_red": "合同红色预警（进场超过30天未上传劳动合同）",
    "missing_wage_card": "未登记工资卡或工种",
    "not_on_project": "不是本项目在职人员",
    "unknown_person": "设备上的人员未在平台登记",
    "time_in_future": "打卡时间晚于当前时间",
    "time_too_old": "打卡时间过早",
    "time_out_of_range": "打卡时间超出有效范围（早于进场日期、超过补传期限或设备时钟错误）",
    "bad_field": "打卡数据格式错误",
    "device_unbound": "设备未绑定项目",
    "device_offline": "设备已被强制下线",
    "duplicate": "重复打卡",
}
_POST_TEXT = cast(dict[str, str], POST_LABELS)  # posts arrive as plain strings from SQL rows
