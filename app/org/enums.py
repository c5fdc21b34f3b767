from app.labels import LabelledEnum


class UnitKind(LabelledEnum):
    organ = "organ", "机关"
    enterprise = "enterprise", "企业"
    school = "school", "学校"
    township = "township", "乡镇"
    village = "village", "村"
    community = "community", "社区"
    non_public = "non_public", "非公企业"
    social_org = "social_org", "社会组织"


class Gender(LabelledEnum):
    male = "male", "男"
    female = "female", "女"


class MemberStatus(LabelledEnum):
    active = "active", "正常"
    transferred_out = "transferred_out", "已转出"
    deceased = "deceased", "已去世"


class MemberCategory(LabelledEnum):
    """Categories study most often fails to reach; a member may be in several at once."""

    migrant = "migrant", "流动党员"
    outgoing = "outgoing", "外出党员"
    retired = "retired", "离退休党员"
    infirm = "infirm", "老弱病残党员"
