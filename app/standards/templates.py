"""Templates of concrete standards, one per unit kind: where a unit starts from and then
writes its own. Data in code: they change with a release, not per city."""

from dataclasses import dataclass

from app.org.enums import MemberCategory, UnitKind

_COMMON = (
    "坚定理想信念，认真学习党章和党的理论，自觉执行党的路线方针政策",
    "全心全意为人民服务，密切联系群众，在本职工作中发挥先锋模范作用",
    "严格遵守党的纪律，按时参加组织生活，按时足额交纳党费",
)


@dataclass(frozen=True)
class TemplateGroup:
    items: tuple[str, ...]
    post: str | None = None
    category: MemberCategory | None = None


@dataclass(frozen=True)
class Template:
    unit_kind: UnitKind
    title: str
    groups: tuple[TemplateGroup, ...]


def _template(kind: UnitKind, *groups: TemplateGroup) -> Template:
    return Template(
        kind, f"{kind.label}党员先进性具体标准（参考）", (TemplateGroup(_COMMON), *groups)
    )


TEMPLATES: dict[UnitKind, Template] = {
    t.unit_kind: t
    for t in (
        _template(
            UnitKind.organ,
            TemplateGroup(
                ("带头执行民主集中制，廉洁从政，自觉接受党员和群众监督",),
                post="党员领导干部",
            ),
            TemplateGroup(
                ("依法行政，提高办事效率和服务质量，不推诿、不刁难群众",), post="机关党员干部"
            ),
        ),
        _template(
            UnitKind.enterprise,
            TemplateGroup(
                ("诚信经营，依法管理，维护国有资产安全和职工合法权益",), post="经营管理人员"
            ),
            TemplateGroup(
                ("严守安全操作规程，攻坚克难，带头开展技术革新和岗位练兵",),
                post="生产一线党员",
            ),
        ),
        _template(
            UnitKind.school,
            TemplateGroup(("忠诚党的教育事业，为人师表，潜心治学，关爱学生",), post="教师党员"),
            TemplateGroup(("热情服务师生，廉洁办事，维护校园安全稳定",), post="管理服务人员"),
        ),
        _template(
            UnitKind.township,
            TemplateGroup(
                ("深入村组农户，为群众办实事，带领群众增收致富，维护农村稳定",),
                post="乡镇干部",
            ),
        ),
        _template(
            UnitKind.village,
            TemplateGroup(("带头致富，带领群众共同致富，带头遵守村规民约",), post="村党员干部"),
            TemplateGroup(
                ("外出不忘党员身份，主动与支部保持联系，按时交纳党费",),
                category=MemberCategory.outgoing,
            ),
            TemplateGroup(
                ("发挥余热，参与村务监督，调解邻里纠纷",), category=MemberCategory.retired
            ),
        ),
        _template(
            UnitKind.community,
            TemplateGroup(
                ("热心社区公益，参与楼院管理、治安联防和志愿服务",),
                category=MemberCategory.retired,
            ),
            TemplateGroup(
                ("量力而行，保持党员本色，参加力所能及的组织生活",),
                category=MemberCategory.infirm,
            ),
        ),
        _template(
            UnitKind.non_public,
            TemplateGroup(
                ("守法经营，诚实守信，依法维护职工合法权益，支持企业党组织开展工作",),
                post="出资人和管理人员党员",
            ),
            TemplateGroup(
                ("主动亮明党员身份，流入地与流出地组织生活都不缺席",),
                category=MemberCategory.migrant,
            ),
        ),
        _template(
            UnitKind.social_org,
            TemplateGroup(
                ("坚持正确方向，依法依章程开展活动，带头遵守行业自律规范",),
                post="负责人党员",
            ),
        ),
    )
}
