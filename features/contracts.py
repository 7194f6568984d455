"""Record contracts: the canonical columns of every input kind.

One declarative description per kind serves the loaders (what to parse and
check), the storage layer (which table, which key) and the docs. The columns
follow ``shared/DESIGN.md``; adding a column means adding it here first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["areas", "adjacency", "petitions", "mediation", "population", "policies"]
KINDS: tuple[Kind, ...] = ("areas", "adjacency", "petitions", "mediation", "population", "policies")

AREA_LEVELS = ("province", "city", "district", "county", "street", "township", "community", "village", "grid")
PETITION_CHANNELS = ("visit", "letter", "phone", "online")
# Administrative levels a petition can be taken to, lowest first; a petition
# that reaches a level above the area's county is cross-level (越级访).
PETITION_LEVELS = ("community", "street", "county", "city", "province", "national")
MEDIATION_OUTCOMES = ("agreement", "failed", "referred", "pending")
MEDIATION_ORIGINS = ("reported", "screened")
POLICY_TYPES = (
    "land_requisition",
    "relocation",
    "wage_pension",
    "fees_prices",
    "facility_siting",
    "school_hospital_change",
    "other",
)
# Columns that identify a person; a file carrying any of them is accepted but
# the column is dropped before anything is stored (principle 1).
PERSON_COLUMNS = (
    "name_of_petitioner",
    "petitioner_name",
    "petitioner",
    "petitioner_id",
    "id_number",
    "id_card",
    "id_no",
    "phone_number",
    "phone",
    "address",
    "姓名",
    "身份证号",
    "身份证",
    "电话",
    "住址",
)
# A stable key for the petitioner (e.g. an ID number); used only inside
# ingestion, through a keyed hash, to derive ``is_repeat``.
PETITIONER_KEY_COLUMN = "petitioner_key"


@dataclass(frozen=True)
class Contract:
    """What one input kind must and may contain, and how it is stored."""

    kind: Kind
    table: str
    key: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()  # non-negative integers
    shares: tuple[str, ...] = ()  # floats in [0, 1]
    reals: tuple[str, ...] = ()  # non-negative floats
    flags: tuple[str, ...] = ()  # booleans
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Versioned kinds keep every correction: a re-sent id with new content
    # and a later ``recorded_on`` becomes a new version.
    versioned: bool = False
    # (earlier, later) date pairs that must be ordered.
    ordered_dates: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


CONTRACTS: dict[str, Contract] = {
    "areas": Contract(
        kind="areas",
        table="areas",
        key=("area_id",),
        required=("area_id", "name", "parent_id", "level"),
        optional=("name_pinyin", "geometry"),
        choices={"level": AREA_LEVELS},
    ),
    "adjacency": Contract(
        kind="adjacency",
        table="adjacency",
        key=("area_id", "neighbor_id"),
        required=("area_id", "neighbor_id"),
    ),
    "petitions": Contract(
        kind="petitions",
        table="petitions",
        key=("petition_id",),
        required=("petition_id", "area_id", "received_on", "category"),
        optional=(
            "recorded_on",
            "channel",
            "people",
            "level_reached",
            "is_repeat",
            "status",
            "closed_on",
            "satisfied",
        ),
        dates=("received_on", "recorded_on", "closed_on"),
        counts=("people",),
        flags=("is_repeat", "satisfied"),
        choices={"channel": PETITION_CHANNELS, "level_reached": PETITION_LEVELS},
        versioned=True,
        ordered_dates=(("received_on", "recorded_on"), ("received_on", "closed_on")),
    ),
    "mediation": Contract(
        kind="mediation",
        table="mediation_cases",
        key=("case_id",),
        required=("case_id", "area_id", "opened_on", "dispute_type"),
        optional=("recorded_on", "closed_on", "outcome", "parties", "amount", "origin"),
        dates=("opened_on", "recorded_on", "closed_on"),
        counts=("parties",),
        reals=("amount",),
        choices={"outcome": MEDIATION_OUTCOMES, "origin": MEDIATION_ORIGINS},
        versioned=True,
        ordered_dates=(("opened_on", "recorded_on"), ("opened_on", "closed_on")),
    ),
    "population": Contract(
        kind="population",
        table="population",
        key=("area_id", "period_start"),
        required=("area_id", "period_start", "residents"),
        optional=(
            "registered",
            "migrants",
            "elderly_share",
            "low_income_households",
            "rental_share",
            "unemployed",
        ),
        dates=("period_start",),
        counts=("residents", "registered", "migrants", "low_income_households", "unemployed"),
        shares=("elderly_share", "rental_share"),
    ),
    "policies": Contract(
        kind="policies",
        table="policies",
        key=("policy_id",),
        required=("policy_id", "type", "areas", "announced_on", "effective_on"),
        optional=("households_affected", "compensation_ratio", "hearing_held", "description"),
        dates=("announced_on", "effective_on"),
        counts=("households_affected",),
        reals=("compensation_ratio",),
        flags=("hearing_held",),
        choices={"type": POLICY_TYPES},
        ordered_dates=(("announced_on", "effective_on"),),
    ),
}

# The dispute families of the source survey (DESIGN.md), as canonical codes.
# Petition ``category`` and mediation ``dispute_type`` use them; other codes
# are accepted (real offices have their own lists) but carry no family.
DISPUTE_FAMILIES: dict[str, str] = {
    "marriage_family": "婚姻家庭",
    "neighbour_rights": "相邻权益",
    "personal_injury": "人身损害",
    "rural_land": "农村土地承包",
    "private_lending": "民间借贷",
    "labour_wages": "劳资",
    "medical": "医患",
    "environment": "环保",
    "land_demolition": "征地拆迁",
    "traffic_compensation": "交通事故赔偿",
    "consumer_prices": "消费价格",
    "enterprise_restructuring": "企业改制",
    "social_security": "社会保障",
}

# The default escalation of DESIGN.md, in one place for the labels, the
# simulator's truth and the docs (docs/adr/0003-escalation-label.md).
COLLECTIVE_MIN_PEOPLE = 5  # 集体访: five or more petitioners
CROSS_LEVELS = ("city", "province", "national")  # above the area's own county: 越级访
SERIOUS_FAMILIES = ("land_demolition", "labour_wages", "enterprise_restructuring", "environment")
SERIOUS_MIN_PARTIES = 5
SERIOUS_MIN_AMOUNT = 100_000.0  # yuan
