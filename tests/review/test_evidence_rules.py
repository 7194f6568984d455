"""Thin evidence widens the interval and says so; the level rule never reads uncertainty as safety."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.policy.levels import LevelInputs, LevelRule, assign_level
from models.policy.pooled import PoolingParams, pool
from models.policy.review import relevant_families

FAMILY = "land_demolition"
PROPOSAL = pd.DataFrame([{"households_affected": 600, "compensation_ratio": 0.9, "hearing_held": True}])


def effects_of(types: dict[str, int], *, effect: float = 0.6, sd: float = 0.25, seed: int = 0) -> pd.DataFrame:
    """Per-decision effects on one family: ``types`` maps a type to how many decisions it has."""
    rng = np.random.default_rng(seed)
    rows = []
    for policy_type, n in types.items():
        for i in range(n):
            estimate = effect + rng.normal(0, sd)
            rows.append({"policy_id": f"{policy_type}-{i}", "type": policy_type, "family": FAMILY, "estimate": estimate,
                         "lower": estimate - 0.6, "upper": estimate + 0.6, "households_affected": rng.integers(50, 2000),
                         "compensation_ratio": rng.uniform(0.6, 1.2), "hearing_held": bool(rng.random() < 0.5)})
    return pd.DataFrame(rows, columns=["policy_id", "type", "family", "estimate", "lower", "upper",
                                       "households_affected", "compensation_ratio", "hearing_held"])


def uplift(effects: pd.DataFrame, policy_type: str):
    return pool(effects, families=(FAMILY,), policy_type=policy_type, proposal=PROPOSAL, params=PoolingParams())[FAMILY]


def test_many_analogues_give_an_interval_without_warnings() -> None:
    found = uplift(effects_of({"relocation": 40}), "relocation")
    assert found.evidence == "type" and found.analogues == 40 and not found.warnings
    assert found.upper - found.lower < 1.0
    assert abs(found.estimate - 0.6) < 0.2


def test_no_analogue_of_the_type_gives_a_wide_interval_and_a_warning() -> None:
    effects = effects_of({"relocation": 40, "land_requisition": 30})
    confident = uplift(effects, "relocation")
    borrowed = uplift(effects, "school_hospital_change")
    assert borrowed.evidence == "other_types" and borrowed.analogues == 0
    assert borrowed.warnings and "school_hospital_change" in borrowed.warnings[0]
    assert borrowed.upper - borrowed.lower > 3 * (confident.upper - confident.lower)


def test_few_analogues_widen_the_interval_and_say_so() -> None:
    effects = effects_of({"relocation": 40, "fees_prices": 2})
    few = uplift(effects, "fees_prices")
    many = uplift(effects, "relocation")
    assert few.evidence == "few" and few.analogues == 2
    assert "only 2" in few.warnings[0]
    assert few.upper - few.lower > 2 * (many.upper - many.lower)


def test_no_history_at_all_is_not_an_estimate() -> None:
    found = uplift(effects_of({}), "relocation")
    assert found.estimate is None and found.evidence == "none" and found.warnings


def test_modifiers_enter_only_where_the_history_supports_them() -> None:
    rng = np.random.default_rng(1)
    effects = effects_of({"relocation": 60}, sd=0.05)
    no_hearing = ~effects["hearing_held"].astype(bool)
    effects["estimate"] += 0.5 * no_hearing + rng.normal(0, 0.02, len(effects))
    effects["lower"], effects["upper"] = effects["estimate"] - 0.3, effects["estimate"] + 0.3
    with_hearing = uplift(effects, "relocation")
    assert "no_hearing" in with_hearing.modifiers
    coefficient = with_hearing.modifiers["no_hearing"]
    assert coefficient["lower"] < 0.5 < coefficient["upper"]
    without = pool(effects, families=(FAMILY,), policy_type="relocation", params=PoolingParams(),
                   proposal=PROPOSAL.assign(hearing_held=False))[FAMILY]
    assert without.estimate == pytest.approx(with_hearing.estimate + coefficient["coefficient"], abs=1e-9)
    assert not uplift(effects.head(6), "relocation").modifiers  # six decisions cannot support a modifier


RULE = LevelRule()


@pytest.mark.parametrize(("uplifts", "opposed", "level"), [
    ({"a": (np.log(1.1), np.log(0.9), np.log(1.3))}, None, "low"),
    ({"a": (np.log(1.1), np.log(0.9), np.log(1.3))}, 0.25, "medium"),
    ({"a": (np.log(1.1), np.log(0.9), np.log(1.3))}, 0.6, "high"),
    ({"a": (np.log(1.4), np.log(1.1), np.log(1.8))}, None, "medium"),
    ({"a": (np.log(2.6), np.log(2.1), np.log(3.3))}, None, "high"),
    ({"a": (np.log(1.05), np.log(0.3), np.log(4.0))}, None, "medium"),  # wide: a doubling cannot be ruled out
    ({"a": (None, 0.0, 1.1)}, None, "medium"),  # no evidence at all
])
def test_level_rule(uplifts, opposed, level) -> None:
    found, reasons = assign_level(LevelInputs(uplifts, opposed), RULE)
    assert found == level and reasons


def test_the_rule_is_published_with_its_cut_offs() -> None:
    text = LevelRule(high_multiplier=3.0, high_opposed=0.6).text()
    assert "x3" in text and "60%" in text and "HIGH" in text and "LOW" in text


def test_relevant_families_fall_back_to_the_most_likely_when_nothing_is_certain() -> None:
    effects = pd.concat([effects_of({"relocation": 3}), effects_of({"relocation": 3}, effect=0.0, seed=3).assign(
        family="medical")])
    found = pool(effects, families=(FAMILY, "medical"), policy_type="relocation", proposal=PROPOSAL,
                 params=PoolingParams())
    assert relevant_families(found, 1) == [FAMILY]
