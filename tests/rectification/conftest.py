import pytest

from app.auth.principal import Role
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org


@pytest.fixture
def world(session, client_as):
    """A unit in the rectification phase with two branches, and a client per role:
    its own admin and secretary, its district's admin, an inspector assigned to it, an
    inspector of another unit, and the admin of a unit elsewhere."""
    b = campaign.batch(session)
    u = org.unit(session)
    br, br2 = org.branch(session, u.id), org.branch(session, u.id)
    members = [org.member(session, br.id) for _ in range(3)]
    campaign.enrol(session, u.id, b.id, "rectification")
    elsewhere = org.unit(session)

    def as_(role, **scope):
        return client_as(users.user(session, role, **scope))

    class World:
        batch, unit, branch, branch2, member = b, u, br, br2, members[0]
        other_unit = elsewhere
        unit_admin = as_(Role.unit_admin, unit_id=u.id)
        secretary = as_(Role.branch_secretary, branch_id=br.id)
        secretary2 = as_(Role.branch_secretary, branch_id=br2.id)
        district_admin = as_(Role.district_admin, district_id=u.district_id)
        inspector = as_(Role.inspector, unit_ids=(u.id,))
        stranger_inspector = as_(Role.inspector, unit_ids=(elsewhere.id,))
        other_admin = as_(Role.unit_admin, unit_id=elsewhere.id)
        other_district_admin = as_(Role.district_admin, district_id=elsewhere.district_id)

    return World
