from app.labels import LabelledEnum


class SessionFormat(LabelledEnum):
    collective_study = "collective_study", "集中学习"
    party_lecture = "party_lecture", "党课"
    tutorial_report = "tutorial_report", "辅导报告"
    seminar = "seminar", "专题讨论"
    distance_learning = "distance_learning", "远程教育"
    home_delivery = "home_delivery", "送学上门"
    self_study = "self_study", "自学"
    make_up = "make_up", "补课"


class AttendanceStatus(LabelledEnum):
    present = "present", "出席"
    late = "late", "迟到"
    excused = "excused", "请假"
    absent = "absent", "缺席"

    @property
    def earns(self) -> bool:
        """Present and late earn the session's hours; excused and absent earn nothing."""
        return self in (AttendanceStatus.present, AttendanceStatus.late)
