"""Property-based tests: random organisations, random operator sequences.

After every operator of a random sequence on a random organisation, the
invariants hold (``org_problems`` is empty, every function has one owner, the
hierarchy is a forest, approval paths are DAGs), no function appears or
disappears, headcount is conserved in the zone and overall through the
ledger, the change log agrees with the ledger, and the operator left its
input untouched (see ``strategies.check_step``). Near-miss and careless specs
fail with a ReformError naming the operator, or with an OrgValidationError
only for results a spec may legitimately ask for. ``cap_headcount`` meets
every reachable cap exactly, also where a pooled unit serves cases.

Each property runs 200 derandomised examples (no database), so CI is
deterministic. The properties that draw operators run their ``@given``
function inside a plain test that counts, across all examples, what really
happened (operators applied, per operator; pooled cases met), and fails if
the run was vacuous: hypothesis' ``event`` statistics are not visible to
assertions, these counters are.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orgsim.errors import OrgValidationError, ReformError
from orgsim.model import org as o
from orgsim.model.build import build_org
from orgsim.model.validate import org_problems
from orgsim.reforms import OPERATORS, apply_reform
from orgsim.scenario.loader import check_references
from strategies import (
    LEDGER_FIELDS,
    OPERATOR_NAMES,
    applicable,
    cap_room,
    check_step,
    operator_specs,
    org_dump,
    orgs,
    scenarios,
    spec,
    weighted,
    wild_specs,
)

# 200 derandomised examples per property: seconds each.
pytestmark = pytest.mark.slow

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_strategies_cover_every_operator():
    assert sorted(OPERATOR_NAMES) == sorted(OPERATORS)


@PROPERTY
@given(st.booleans().flatmap(lambda pooled_cases: scenarios(pooled_cases=pooled_cases)))
def test_random_scenarios_are_valid_organisations(scenario):
    assert check_references(scenario) == []
    org = build_org(scenario)
    assert org_problems(org) == []
    assert sorted(org.functions()) == sorted(f.id for f in scenario.functions)
    assert org.ledger.total("released") == 0


def test_random_operator_sequences_keep_invariants_and_conserve_staff():
    applied: Counter[str] = Counter()
    examples = []

    @PROPERTY
    @given(orgs(), st.data())
    def run(org, data):
        start = org
        n_applied = 0
        for _ in range(data.draw(st.integers(1, 6), label="steps")):
            op = data.draw(st.sampled_from(weighted(applicable(org))), label="op")
            op_spec = data.draw(operator_specs(org, op), label="spec")
            snapshot = org_dump(org)
            try:
                new, changes = OPERATORS[op](org, op_spec)
            except ReformError as exc:
                # a precondition the strategy cannot see from outside; must name the operator
                assert str(exc).startswith(f"{op}: ")
                event(f"rejected {op}")
                continue
            assert org_dump(org) == snapshot, f"{op} changed its input"
            check_step(org, new, changes)
            event(f"applied {op}")
            applied[op] += 1
            n_applied += 1
            org = new
        # conservation over the whole sequence, from the initial organisation
        total = {k: org.ledger.total(k) for k in LEDGER_FIELDS}
        assert (
            start.zone_headcount() + total["moved_in"] + total["hired"]
            == org.zone_headcount() + total["moved_out"] + total["released"]
        )
        assert (
            start.total_headcount() + total["hired"] + total["hired_outside"]
            == org.total_headcount() + total["released"] + total["released_outside"]
        )
        assert set(org.functions()) >= set(start.functions())  # one_window may add its intake
        event(f"{n_applied} operators applied")
        examples.append(n_applied)

    run()
    # not vacuous: most examples applied an operator, and every operator was applied often
    assert len(examples) >= 200
    assert sum(1 for n in examples if n > 0) >= 0.9 * len(examples)
    assert sum(examples) >= 2 * len(examples)
    for op in OPERATOR_NAMES:
        assert applied[op] >= 10, (op, applied)


def test_cap_headcount_meets_any_reachable_cap_exactly():
    """Even where a pooled unit serves cases from its pool, every case keeps capacity."""
    pool_served = []

    @PROPERTY
    @given(orgs(pooled_cases=True), st.data())
    def run(org, data):
        heads = [u for u in org.roots() if org.in_zone_government(u)]
        within = data.draw(st.sampled_from(heads * 3 + org.units()), label="within")
        current, lowest = cap_room(org, within)
        cap = data.draw(st.one_of(st.sampled_from([lowest - 1, lowest, lowest]), st.integers(lowest, current + 1))
                        .filter(lambda n: n >= 0), label="cap")
        policy = data.draw(st.sampled_from(["proportional", "support_first", "frontline_first"]))
        op = spec({"op": "cap_headcount", "within": within, "cap": cap, "policy": policy})
        zone = [u for u in org.subtree(within) if org.in_zone_government(u)]
        cases = {f for flow in org.flows for f in flow.functions()}
        if any(org.attr(u, o.POOLED) and any(f in cases and not org.attr(f, o.OFFICERS)
                                              for f in org.performed_by(u)) for u in zone):
            event("a pooled unit serves cases from its pool")
            pool_served.append(cap <= lowest)
        if cap < lowest:
            with pytest.raises(ReformError, match=f"cap {cap} for {within!r} cannot be met"):
                OPERATORS["cap_headcount"](org, op)
            return
        new, changes = OPERATORS["cap_headcount"](org, op)
        check_step(org, new, changes)
        assert sum(new.headcount(u) for u in zone) == min(cap, current)
        assert [new.leaders(u) for u in zone] == [org.leaders(u) for u in zone]

    run()
    assert sum(pool_served) >= 10, len(pool_served)


#: Problems a careless spec may ask for, which ``apply_reform`` reports as
#: OrgValidationError: a zone left without its committee on top, a case
#: function left without officers or a service time.
USER_CAUSED = ("only a committee may head a zone", "receives work but has no")


def test_careless_specs_fail_with_reform_errors_only():
    """Near-miss and random specs fail with a clear error or keep the invariants.

    Never another exception, never a reporting cycle or a lost owner; a
    ReformError names its operator.
    """
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(orgs(), st.data())
    def run(org, data):
        for _ in range(data.draw(st.integers(1, 4), label="steps")):
            op_spec = data.draw(wild_specs(org), label="spec")
            before, snapshot = org, org_dump(org)
            try:
                new, changes = apply_reform(before, op_spec)
            except ReformError as exc:
                assert str(exc).startswith(f"{op_spec.op}: ")
                outcome = "reform_error"
            except OrgValidationError as exc:
                assert exc.problems
                for problem in exc.problems:
                    assert any(text in problem.message for text in USER_CAUSED), problem
                outcome = "validation_error"
            else:
                check_step(before, new, changes)
                outcome = "applied"
                org = new
            assert org_dump(before) == snapshot, f"{op_spec.op} changed its input"
            event(outcome)
            outcomes[outcome] += 1

    run()
    assert outcomes["reform_error"] >= 50 and outcomes["applied"] >= 50, outcomes
