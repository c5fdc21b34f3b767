"""Parts of Chinese names: people, and the units of each kind.

Unit names are drawn from name spaces (the product of a few part lists) by index, so that
a district's units of one kind can be given distinct names by sampling indexes without
replacement instead of retrying on collisions.
"""

import itertools
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.org.enums import UnitKind

# The hundred commonest surnames, with weights roughly following their frequency, so that
# 王, 李, 张, 刘 and 陈 dominate a list of members as they do in a real roster.
_SURNAMES = (
    ("王", 72), ("李", 72), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 25),
    ("赵", 21), ("吴", 20), ("周", 19), ("徐", 15), ("孙", 14), ("马", 13), ("朱", 13),
    ("胡", 12), ("郭", 12), ("何", 11), ("高", 10), ("林", 10), ("罗", 10), ("郑", 9),
    ("梁", 9), ("谢", 7), ("宋", 7), ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6),
    ("曹", 6), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 5), ("董", 5), ("袁", 5), ("潘", 4),
    ("于", 4), ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("付", 2), ("方", 2), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2),
    ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2),
    ("覃", 1), ("武", 1), ("戴", 1), ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1),
)  # fmt: skip
SURNAMES: tuple[str, ...] = tuple(s for s, _ in _SURNAMES)
SURNAME_CUM_WEIGHTS: tuple[int, ...] = tuple(itertools.accumulate(w for _, w in _SURNAMES))
_SURNAME_TOTAL = SURNAME_CUM_WEIGHTS[-1]

_MALE_CHARS = "伟强军平刚勇杰涛明超辉华建国峰磊斌波鹏飞俊志文海林东宇浩亮成利民永胜红兵德福春"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲燕萍红梅琳桂兰凤洁琴云莲慧颖雪佳丹晶婷倩萱月翠荣"
_SHARED_CHARS = "晓小海春秋玉金新文明安宁爱立振兴家永红庆雨思"
MALE_GIVEN: tuple[str, ...] = tuple(_MALE_CHARS + _SHARED_CHARS)
FEMALE_GIVEN: tuple[str, ...] = tuple(_FEMALE_CHARS + _SHARED_CHARS)
# Share of people with a one-character given name (张伟 rather than 张建国).
SINGLE_GIVEN_SHARE = 0.18


def person_name(rng: random.Random, female: bool) -> str:
    # random() scaled by hand rather than choices()/choice(): this runs once per member and
    # is a good part of the generator's time.
    r = rng.random
    surname = SURNAMES[bisect(SURNAME_CUM_WEIGHTS, r() * _SURNAME_TOTAL)]
    chars = FEMALE_GIVEN if female else MALE_GIVEN
    n = len(chars)
    if r() < SINGLE_GIVEN_SHARE:
        return surname + chars[int(r() * n)]
    return surname + chars[int(r() * n)] + chars[int(r() * n)]


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 40 → 四十, 123 → 一百二十三 (ordinals of branches)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return _DIGITS[hundreds] + "百"
    middle = "零" if rest < 10 else ""
    tail = chinese_number(rest) if rest >= 20 or rest < 10 else "一" + chinese_number(rest)
    return _DIGITS[hundreds] + "百" + middle + tail


TOWNS = (
    "石门", "龙潭", "双河", "白马", "青龙", "黄土", "柳林", "桃园", "杨庄", "新集", "高桥",
    "马场", "东关", "西坪", "南湖", "北岭", "金山", "银河", "太平", "永安", "长乐", "兴隆",
    "三合", "五里", "七星", "九龙", "红旗", "大营", "古城", "新店", "花园", "草桥", "松林",
    "梅溪", "竹园", "枫林", "桥头", "沙河", "官庄", "李集",
)  # fmt: skip
STREETS = (
    "解放", "人民", "建设", "中山", "文化", "胜利", "东风", "朝阳", "新华", "光明", "和平",
    "团结", "幸福", "迎宾", "滨江", "府前", "北门", "南门", "城关", "东城",
)  # fmt: skip
COMMUNITIES = (
    "建设", "幸福", "阳光", "翠苑", "锦绣", "金桥", "花园", "丽景", "康乐", "和谐", "东苑",
    "西苑", "南苑", "北苑", "新村", "书院", "文昌", "龙湖", "桂花", "荷塘", "枫叶", "春晖",
    "秀水", "望江", "育才", "民主", "青年", "工人", "铁路", "纺织",
)  # fmt: skip
VILLAGE_SUFFIXES = ("家", "庄", "湾", "坪", "岭", "沟", "寨", "营", "店", "桥", "楼", "集")
ORGANS = (
    "财政局", "教育局", "公安局", "民政局", "人力资源和社会保障局", "自然资源局",
    "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化和旅游局",
    "卫生健康委员会", "审计局", "统计局", "市场监督管理局", "应急管理局", "税务局",
    "发展和改革委员会", "司法局", "林业局", "生态环境局", "人民法院", "人民检察院",
    "纪委监委机关", "委组织部", "委宣传部", "委统战部", "委政法委", "人大常委会机关",
    "政协机关", "总工会", "团委", "妇联", "科协", "档案馆", "机关事务管理局", "信访局",
    "退役军人事务局", "医疗保障局",
)  # fmt: skip
ORGAN_SUBORDINATES = ("", "直属机关", "事务服务中心", "信息中心")
SCHOOL_PREFIXES = (
    "第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "实验", "育才", "城关",
    "民族", "外国语", "师范附属", "职业技术",
)  # fmt: skip
SCHOOL_TYPES = ("小学", "中学", "初级中学", "高级中学", "幼儿园")
TOWN_SCHOOL_TYPES = ("中心小学", "初级中学", "中心幼儿园")
STATE_ENTERPRISES = (
    "城市建设投资", "交通投资", "自来水", "供电", "燃气", "公共交通", "粮食储备", "农业发展",
    "文化旅游", "水务", "国有资产经营", "烟草", "邮政", "电信", "农村商业银行", "建筑工程",
    "钢铁", "化肥", "纺织", "机械", "医药", "林场",
)  # fmt: skip
STATE_FORMS = ("有限公司", "集团有限公司", "股份有限公司")
TRADE_NAMES = (
    "宏达", "鑫源", "恒通", "金鹏", "华盛", "永兴", "瑞丰", "隆昌", "东方", "天成", "嘉禾",
    "博远", "兴旺", "德润", "正泰", "万通", "锦程", "富康", "佳美", "新世纪",
)  # fmt: skip
TRADES = (
    "机械制造", "建材", "电子科技", "食品", "服装", "物流", "房地产开发", "商贸", "纺织",
    "汽车销售", "农业科技", "化工",
)  # fmt: skip
SOCIAL_ORGS = (
    "个体劳动者协会", "私营企业协会", "律师协会", "注册会计师协会", "慈善总会", "作家协会",
    "书法家协会", "老年人体育协会", "红十字会", "青年企业家协会", "餐饮行业协会",
    "物业管理协会", "养老服务中心", "社会工作服务中心", "志愿者联合会",
)  # fmt: skip
TOWN_SOCIAL_ORGS = ("商会", "老年协会", "志愿者协会")


@dataclass(frozen=True)
class NameSpace:
    """Every name of one kind: index i decodes to (full name, short name) in mixed radix."""

    parts: tuple[Sequence[str], ...]
    render: Callable[..., tuple[str, str]]

    @property
    def size(self) -> int:
        size = 1
        for part in self.parts:
            size *= len(part)
        return size

    def name(self, index: int) -> tuple[str, str]:
        picked = []
        for part in reversed(self.parts):
            index, digit = divmod(index, len(part))
            picked.append(part[digit])
        return self.render(*reversed(picked))


def _union(*spaces: NameSpace) -> NameSpace:
    """One space made of several, one after the other."""
    sizes = [s.size for s in spaces]

    def render(index: int) -> tuple[str, str]:
        for space, size in zip(spaces, sizes, strict=True):
            if index < size:
                return space.name(index)
            index -= size
        raise IndexError(index)

    return NameSpace((range(sum(sizes)),), render)  # type: ignore[arg-type]


_VILLAGES = tuple(s + suffix for s in SURNAMES[:60] for suffix in VILLAGE_SUFFIXES)

UNIT_NAMES: dict[UnitKind, NameSpace] = {
    UnitKind.village: NameSpace(
        (TOWNS, _VILLAGES), lambda town, village: (f"{town}镇{village}村", f"{village}村")
    ),
    UnitKind.community: NameSpace(
        (STREETS, COMMUNITIES), lambda street, c: (f"{street}街道{c}社区", f"{c}社区")
    ),
    UnitKind.township: NameSpace(
        (TOWNS, ("镇", "乡")), lambda town, suffix: (town + suffix, town + suffix)
    ),
    UnitKind.organ: NameSpace(
        (ORGANS, ORGAN_SUBORDINATES), lambda organ, sub: (organ + sub, organ + sub)
    ),
    UnitKind.school: _union(
        NameSpace((SCHOOL_PREFIXES, SCHOOL_TYPES), lambda p, t: (p + t, p + t)),
        NameSpace((TOWNS, TOWN_SCHOOL_TYPES), lambda town, t: (f"{town}镇{t}", town + t)),
    ),
    UnitKind.enterprise: NameSpace(
        (STATE_ENTERPRISES, STATE_FORMS), lambda name, form: (name + form, name + "公司")
    ),
    UnitKind.non_public: NameSpace(
        (TRADE_NAMES, TRADES), lambda brand, trade: (f"{brand}{trade}有限公司", brand + "公司")
    ),
    UnitKind.social_org: _union(
        NameSpace((SOCIAL_ORGS,), lambda org: (org, org)),
        NameSpace((TOWNS, TOWN_SOCIAL_ORGS), lambda town, org: (f"{town}镇{org}", town + org)),
    ),
}


def unit_names(rng: random.Random, kind: UnitKind, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (full, short) names of one kind, in random order.

    Past the size of the space (only at large scales) names repeat with a numbered
    suffix, as a second office of the same organisation would be called.
    """
    space = UNIT_NAMES[kind]
    names = [space.name(i) for i in rng.sample(range(space.size), min(count, space.size))]
    for extra in range(count - len(names)):
        full, short = names[extra % space.size]
        n = chinese_number(extra // space.size + 2)
        names.append((f"{full}第{n}分部", f"{short}{n}部"))
    return names
