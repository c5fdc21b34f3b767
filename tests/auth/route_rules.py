"""Who may call what: the rule of every route, read by test_route_matrix.py.

A rule says which roles succeed inside their scope and how to build the request (path ids,
body, upload) against one side of the test world; what outside the scope answers follows
from the rule's kind (see ``_expected`` in the test). What a rule is lives in rule.py, the
rules themselves in campaign_rules.py, org_rules.py and report_rules.py.
"""

from tests.auth import campaign_rules, org_rules, report_rules
from tests.auth.rule import Rule

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/api/v1/auth/token"),
}

# The test walks the rules in this order, and some change what later ones find: the advance
# rule moves the side's unit on a step per allowed role, so rectification (an unverified
# item would stop the unit's last step) and the standards and evaluations (the unit's
# evaluation gate) come after it.
_PARTS = (
    campaign_rules.CAMPAIGN,
    campaign_rules.STUDY,
    campaign_rules.RECTIFICATION,
    org_rules.ORG,
    report_rules.REPORTS,
    campaign_rules.EVALUATION,
)
RULES: dict[tuple[str, str], Rule] = {
    route: rule for part in _PARTS for route, rule in part.items()
}
# A route ruled in two parts would otherwise keep the later rule without a word.
assert len(RULES) == sum(len(part) for part in _PARTS), "a route has rules in two parts"
