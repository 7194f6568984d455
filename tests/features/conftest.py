"""Fixtures for the feature tests: a small city with every kind of record."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.features.factories import D, add_cases, add_petitions, add_policy, add_population, case, city, petition


def full_city(engine: Engine) -> list[str]:
    """Six communities under two streets with petitions, cases, population and policies over ~15 months."""
    communities = city(engine)
    pets, cases = [], []
    for i, area in enumerate(communities):
        for k in range(12):
            day = D(2022, 1, 3 + (k * 37 + i * 11) % 25) if k < 6 else D(2023, (k % 12) + 1, 2 + i)
            pets.append(petition(area=area, on=day, recorded=D(day.year, day.month, min(day.day + 3, 28)),
                                 category=("labour_wages", "land_demolition", "medical", "x_local")[k % 4],
                                 people=(1, 6)[k % 2], level_reached=("county", "city")[k % 3 == 0], is_repeat=k % 3 == 1,
                                 closed_on=D(day.year, day.month, 28) if k % 2 else None, satisfied=(k % 4 == 1) if k % 2 else None))
            cases.append(case(area=area, on=day, dispute_type=("labour_wages", "marriage_family")[k % 2],
                              outcome=("agreement", "failed", "pending", "referred")[k % 4], parties=2 + k % 5,
                              amount=50_000.0 * (k % 4), origin=("screened", "reported")[k % 2],
                              closed_on=D(day.year, day.month, 27) if k % 4 != 2 else None))
    add_petitions(engine, pets)
    add_cases(engine, cases)
    add_population(engine, [dict(area_id=a, period_start=D(2022, m, 1), residents=8000 + 100 * i + 10 * m, registered=5000,
                                 migrants=1500 + i, elderly_share=0.15, low_income_households=40, rental_share=0.3, unemployed=120)
                            for i, a in enumerate(communities) for m in (1, 4, 7, 10)]
                   + [dict(area_id=a, period_start=D(2023, 1, 2), residents=9000 + i, registered=5100, migrants=1600,
                           elderly_share=0.16, low_income_households=41, rental_share=0.31, unemployed=110)
                      for i, a in enumerate(communities)])
    add_policy(engine, pid="P-reloc", kind="relocation", announced=D(2022, 3, 1), effective=D(2022, 6, 1), area_ids=["S0"],
               households_affected=300, hearing_held=False, compensation_ratio=0.7)
    add_policy(engine, pid="P-wage", kind="wage_pension", announced=D(2022, 11, 15), effective=D(2023, 1, 1),
               area_ids=[communities[-1]], households_affected=None, hearing_held=True)
    return communities


@pytest.fixture
def full_engine(engine: Engine) -> Engine:
    full_city(engine)
    return engine
