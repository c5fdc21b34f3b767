import pytest

from tests.campaign import factories as campaign
from tests.org import factories as org


@pytest.fixture
def in_evaluation(session):
    """A unit in the evaluation phase of batch 1 with one branch of five members."""
    b = campaign.batch(session)
    u = org.unit(session)
    br = org.branch(session, u.id, secretary_name="李书记")
    members = [org.member(session, br.id) for _ in range(5)]
    campaign.enrol(session, u.id, b.id, "evaluation")
    return b, u, br, members
