import pytest

from tests.campaign import factories as campaign
from tests.org import factories as org


@pytest.fixture
def branch_in_study(session):
    """A branch of a unit in the study phase of batch 1, with five members."""
    b = campaign.batch(session)
    u = org.unit(session)
    br = org.branch(session, u.id)
    members = [org.member(session, br.id) for _ in range(5)]
    campaign.enrol(session, u.id, b.id, "study")
    return b, br, members
