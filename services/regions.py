"""Reference data: Qinghai's administrative divisions (province, cities/prefectures, counties)."""

from __future__ import annotations

from models import Region, RegionLevel

PROVINCE = ("630000", "青海省")
CITIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "630100": (
        "西宁市",
        [
            ("630102", "城东区"),
            ("630103", "城中区"),
            ("630104", "城西区"),
            ("630105", "城北区"),
            ("630106", "湟中区"),
            ("630121", "大通回族土族自治县"),
            ("630123", "湟源县"),
        ],
    ),
    "630200": (
        "海东市",
        [
            ("630202", "乐都区"),
            ("630203", "平安区"),
            ("630222", "民和回族土族自治县"),
            ("630223", "互助土族自治县"),
            ("630224", "化隆回族自治县"),
            ("630225", "循化撒拉族自治县"),
        ],
    ),
    "632200": (
        "海北藏族自治州",
        [
            ("632221", "门源回族自治县"),
            ("632222", "祁连县"),
            ("632223", "海晏县"),
            ("632224", "刚察县"),
        ],
    ),
    "632300": (
        "黄南藏族自治州",
        [
            ("632301", "同仁市"),
            ("632322", "尖扎县"),
            ("632323", "泽库县"),
            ("632324", "河南蒙古族自治县"),
        ],
    ),
    "632500": (
        "海南藏族自治州",
        [
            ("632521", "共和县"),
            ("632522", "同德县"),
            ("632523", "贵德县"),
            ("632524", "兴海县"),
            ("632525", "贵南县"),
        ],
    ),
    "632600": (
        "果洛藏族自治州",
        [
            ("632621", "玛沁县"),
            ("632622", "班玛县"),
            ("632623", "甘德县"),
            ("632624", "达日县"),
            ("632625", "久治县"),
            ("632626", "玛多县"),
        ],
    ),
    "632700": (
        "玉树藏族自治州",
        [
            ("632701", "玉树市"),
            ("632722", "杂多县"),
            ("632723", "称多县"),
            ("632724", "治多县"),
            ("632725", "囊谦县"),
            ("632726", "曲麻莱县"),
        ],
    ),
    "632800": (
        "海西蒙古族藏族自治州",
        [
            ("632801", "格尔木市"),
            ("632802", "德令哈市"),
            ("632803", "茫崖市"),
            ("632821", "乌兰县"),
            ("632822", "都兰县"),
            ("632823", "天峻县"),
        ],
    ),
}


async def ensure_regions() -> int:
    """Insert any missing division of the reference list; return how many were added."""
    existing = set(await Region.all().values_list("code", flat=True))
    added = 0
    if PROVINCE[0] not in existing:
        await Region.create(code=PROVINCE[0], name=PROVINCE[1], level=RegionLevel.PROVINCE)
        added += 1
    for code, (name, counties) in CITIES.items():
        if code not in existing:
            await Region.create(code=code, name=name, level=RegionLevel.CITY, parent_id=PROVINCE[0])
            added += 1
        new = [
            Region(code=c, name=n, level=RegionLevel.COUNTY, parent_id=code)
            for c, n in counties
            if c not in existing
        ]
        if new:
            await Region.bulk_create(new)
            added += len(new)
    return added


async def region_path(code: str) -> str:
    """``青海省/西宁市/城东区`` for a division code."""
    names: list[str] = []
    region = await Region.get_or_none(code=code)
    while region is not None:
        names.append(region.name)
        region = await Region.get_or_none(code=region.parent_id) if region.parent_id else None
    return "/".join(reversed(names))
