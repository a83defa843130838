"""The scenario file format, as pydantic models.

These models are the single source of truth for the format: the loader
validates against them, ``orgsim schema`` prints their JSON Schema and
``docs/scenario-format.md`` documents them field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orgsim.distributions import Distribution

__all__ = [
    "UNIT_KINDS",
    "JURISDICTIONS",
    "POWER_CATEGORIES",
    "FUNCTION_CATEGORIES",
    "Scenario",
    "Meta",
    "Source",
    "Assumption",
    "Leadership",
    "UnitSpec",
    "FunctionSpec",
    "Arrivals",
    "StepSpec",
    "ProjectType",
    "Handoff",
    "SupportWork",
    "Workload",
    "CalendarSpec",
    "SimulationSpec",
    "NewUnit",
    "Merge",
    "Strip",
    "Devolve",
    "Flatten",
    "OneStop",
    "Parallelize",
    "MergeSteps",
    "AgencyService",
    "SpinOff",
    "MergeZones",
    "CapHeadcount",
    "SetLeadership",
    "Coordinate",
    "HandoffSide",
    "OneWindow",
    "NewFunction",
    "EnforcementBureau",
    "ResolutionShares",
    "Resolution",
    "Resolutions",
    "EnforcementCases",
    "ReformOp",
    "Phase",
    "LearningCurve",
    "Reappointment",
    "Workforce",
    "PayShares",
    "Pay",
]

Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$",
        description="Identifier: a letter or _, then letters, digits, _ . -",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Share = Annotated[float, Field(ge=0.0, lt=1.0)]
Factor = Annotated[float, Field(ge=0.0, le=1.0)]


def _can_leave(p: float) -> float:
    if p == 1:
        raise ValueError("a case sent back with probability 1 never leaves; give a probability below 1")
    return p


#: Chance that a case goes back to the applicant: below 1, or the case never leaves.
ReworkProbability = Annotated[float, Field(ge=0.0, le=1.0), AfterValidator(_can_leave)]
#: Seeds are at most 2**63 - 1, so that every table holds them as 64-bit integers.
MAX_SEED = 2**63 - 1

UnitKind = Literal[
    "committee",
    "party_committee",
    "department",
    "bureau",
    "office",
    "institution",
    "centre",
    "window",
    "park",
    "sub_district",
    "township",
    "district",  # a district government (区)
    "county",  # a county or county-level city government (县, 县级市)
    "city_department",
    "company",
]
UNIT_KINDS: tuple[str, ...] = get_args(UnitKind)

Jurisdiction = Literal["zone", "city", "district", "county", "province", "company"]
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)

#: The ten categories of administrative power (行政权力事项) the articles count.
PowerCategory = Literal[
    "licensing",  # 行政许可
    "penalty",  # 行政处罚
    "coercion",  # 行政强制
    "levy",  # 行政征收
    "payment",  # 行政给付
    "inspection",  # 行政检查
    "confirmation",  # 行政确认
    "reward",  # 行政奖励
    "adjudication",  # 行政裁决
    "other_power",  # 其他行政权力
]
POWER_CATEGORIES: tuple[str, ...] = get_args(PowerCategory)

DutyCategory = Literal[
    "social_affairs",  # 社会事务
    "economic_development",
    "investment_attraction",
    "development_operation",
    "service",  # intake windows, agency service
    "support",
]
FunctionCategory = Literal[PowerCategory, DutyCategory]
FUNCTION_CATEGORIES: tuple[str, ...] = POWER_CATEGORIES + get_args(DutyCategory)


#: Working days in one period of an arrival rate: a working week has 5 days and
#: a working year about 250 (365 less weekends and China's 11 public holidays).
WORKING_DAYS_PER = {"day": 1.0, "week": 5.0, "month": 250.0 / 12, "year": 250.0}


def officers_for_cases(officers: float, standing_hours_per_year: float, hours_per_day: float) -> float:
    """Officers left for cases once standing duties take whole officers (who do them full time)."""
    return officers - standing_hours_per_year / (WORKING_DAYS_PER["year"] * hours_per_day)


class _Model(BaseModel):
    # allow_inf_nan=False: .inf and .nan are refused at load, with their line.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ---------------------------------------------------------------- metadata


#: Text a person reads, in English beside the scenario's own language (as ``name_en`` beside ``name``).
EnglishText = Annotated[str, Field(min_length=1)]


class Source(_Model):
    id: Id
    title: Name
    title_en: Name | None = None
    file: str | None = Field(None, description="Path of the source document, if bundled.")
    figures: list[str] = Field(
        default_factory=list, description="Figures taken from this source, in words."
    )
    figures_en: list[EnglishText] = Field(
        default_factory=list,
        description="The figures in English: one line for each line of `figures`, in the same order; "
        "empty: none given.",
    )

    @field_validator("figures_en", mode="after")
    @classmethod
    def _one_line_per_figure(cls, figures_en: list[str], info: ValidationInfo) -> list[str]:
        figures = info.data.get("figures")
        if figures_en and figures is not None and len(figures_en) != len(figures):
            lines = "1 English line" if len(figures_en) == 1 else f"{len(figures_en)} English lines"
            raise ValueError(f"{len(figures)} figures but {lines}; give one English "
                             "line for each line of `figures`, in the same order")
        return figures_en


class Assumption(_Model):
    about: str = Field(min_length=1, description="What the assumed number is (a field path or words).")
    about_en: EnglishText | None = None
    value: str | float | None = None
    value_en: EnglishText | None = Field(None, description="The value in English, when it is text.")
    reason: str = Field(min_length=1, description="Why this value; 'assumed' plus a reason.")
    reason_en: EnglishText | None = None

    @field_validator("value_en", mode="after")
    @classmethod
    def _value_is_text(cls, value_en: str | None, info: ValidationInfo) -> str | None:
        # A value that failed its own check is not in info.data: it is reported there, not here.
        if value_en is not None and "value" in info.data and not isinstance(info.data["value"], str):
            value = info.data["value"]
            shown = f"{value:g}" if isinstance(value, float) else repr(value)
            raise ValueError(f"value is {shown}, not words: give value_en only beside a value in words")
        return value_en


class Meta(_Model):
    name: Name = Field(description="Scenario name, Chinese allowed.")
    name_en: Name | None = None
    language: Literal["zh", "en"] | None = Field(
        None,
        description="Language of tables, figures and the report when neither --lang nor ORGSIM_LANG "
        "says: zh (Chinese) or en (English, the default).",
    )
    description: str = ""
    description_en: EnglishText | None = None
    sources: list[Source] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)


# ---------------------------------------------------------------- organisation


class Leadership(_Model):
    """Leadership posts of a unit: 1 正 + N 副."""

    chief: Count = Field(1, description="Chief posts (正职), usually 1.")
    deputies: Count = Field(0, description="Deputy posts (副职).")


class UnitSpec(_Model):
    id: Id
    name: Name
    name_en: Name | None = None
    kind: UnitKind
    parent: Id | None = Field(None, description="The unit this one reports to; none for a root.")
    jurisdiction: Jurisdiction = Field(
        None,  # type: ignore[arg-type]  # never None once validated: filled from `kind` by _default_jurisdiction
        description="Default by kind: city_department -> city, sub_district/township/district -> district, "
        "county -> county, company -> company, anything else -> zone.",
    )
    leaders: Leadership = Field(default_factory=Leadership)
    support: Count = Field(0, description="Support staff: office, HR, finance.")
    pooled: bool = Field(
        False,
        description="All the unit's officers form one shared queue for its cases; standing "
        "duties take whole officers out of it.",
    )
    non_case_share: Share = Field(
        0.0, description="Share of frontline working time taken by duties that are not cases."
    )
    support_hours_per_case: Annotated[float, Field(ge=0, le=1000)] | None = Field(
        None,
        description="Support staff hours (office, HR, finance) each case at this unit's officers needs; "
        "default: workload.support_work.hours_per_case.",
    )
    support_hours_per_officer_per_year: Annotated[float, Field(ge=0, le=2000)] | None = Field(
        None,
        description="Support staff hours a year each frontline officer of this unit needs; default: "
        "workload.support_work.hours_per_officer_per_year.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_jurisdiction(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("jurisdiction") is None:
            kind = data.get("kind")  # anything here, even a list: the field checks it later
            default = DEFAULT_JURISDICTION.get(kind, "zone") if isinstance(kind, str) else "zone"
            data = {**data, "jurisdiction": default}
        return data


#: Jurisdiction of a unit whose file gives none, by kind.
DEFAULT_JURISDICTION = {
    "city_department": "city",
    "sub_district": "district",
    "township": "district",
    "district": "district",
    "county": "county",
    "company": "company",
}


class FunctionSpec(_Model):
    id: Id
    name: Name
    name_en: Name | None = None
    category: FunctionCategory
    owner: Id = Field(description="Unit that performs this function.")
    power_items: Count = Field(1, description="Administrative power items it stands for.")
    officers: Count = Field(0, description="Frontline officers who work on this function.")
    service_time: Distribution | None = Field(
        None, description="Officer time per case; required for functions that handle cases."
    )
    signoff_levels: Annotated[int, Field(ge=0, le=10)] = Field(
        1, description="Leaders who sign a case off, climbing from the owning unit's deputies."
    )
    rework_probability: ReworkProbability = Field(
        0.0, description="Chance that a case is sent back to the applicant for completion."
    )
    standing_hours_per_year: Annotated[float, Field(ge=0, le=1e9)] = Field(
        0.0, description="Staff-hours a year for duties that are not cases."
    )


# ---------------------------------------------------------------- workload


class Arrivals(_Model):
    """Poisson arrivals at ``rate`` per ``per`` of working time, or a trace."""

    rate: Annotated[float, Field(ge=1e-6, le=1e6)] | None = Field(
        None, description="Poisson arrivals per `per` of working time."
    )
    per: Literal["day", "week", "month", "year"] = Field(
        "year", description="Period of `rate`: a working week is 5 days, a working year 250."
    )
    trace: str | None = Field(None, description="CSV file of arrival dates, relative to the scenario.")
    column: str = Field("date", description="Column of the trace holding the dates.")

    def rate_per_day(self) -> float:
        """Poisson rate per working day (0 for a trace)."""
        if self.rate is None:
            return 0.0
        return self.rate / WORKING_DAYS_PER[self.per]

    @model_validator(mode="after")
    def _one_of(self) -> Arrivals:
        if (self.rate is None) == (self.trace is None):
            raise ValueError("give exactly one of 'rate' (Poisson) or 'trace' (CSV of dates)")
        return self


class StepSpec(_Model):
    id: Id
    function: Id | list[Id] = Field(
        description="Function the step needs; a list for a merged step (多评合一)."
    )
    after: list[Id] = Field(default_factory=list, description="Steps that must finish first.")
    combine: Literal["sum", "max"] | Annotated[float, Field(gt=0, le=10)] = Field(
        "sum",
        description="Service time of a merged step: sum, max, or a factor times the sum.",
    )
    probability: Probability = Field(
        1.0, description="Share of this type's applications that need the step; the others skip it."
    )
    when: Id | None = Field(
        None, description="Only applications with this attribute (of the project type) need the step."
    )
    rework_to: Id | None = Field(
        None,
        description="An earlier step on the path: a file sent back from this step goes back to it "
        "and comes forward again through the steps between (default: to this step).",
    )


class ProjectType(_Model):
    id: Id
    name: Name
    name_en: Name | None = None
    arrivals: Arrivals
    steps: list[StepSpec] = Field(min_length=1)
    statutory_limit_days: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        None, description="Statutory limit in working days; overrides the workload default."
    )
    attributes: dict[Id, Probability] = Field(
        default_factory=dict,
        description="Named attributes drawn once per application with these probabilities "
        "(e.g. heavy_industry: 0.3); steps with `when` follow them, so correlated steps go together.",
    )


class Handoff(_Model):
    within_unit: Distribution | None = None
    between_units: Distribution | None = None
    between_jurisdictions: Distribution | None = None


class Resolution(_Model):
    """One way of resolving enforcement cases: its share of them and the officer time each takes."""

    share: Probability = Field(description="Share of the cases resolved this way.")
    time: Distribution = Field(description="Officer working time per case resolved this way.")


class ResolutionShares(_Model):
    """Shares of enforcement cases resolved by service, management and enforcement (they add up to 1)."""

    service: Probability = Field(description="Share resolved by service: advice, guidance (服务).")
    management: Probability = Field(description="Share resolved by management: warnings, orders (管理).")
    enforcement: Probability = Field(description="Share resolved by enforcement: penalty procedures (执法).")

    @model_validator(mode="after")
    def _sum_to_one(self) -> ResolutionShares:
        total = self.service + self.management + self.enforcement
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"the shares add up to {total:g}; they must add up to 1 (e.g. 0.7, 0.2, 0.1)")
        return self


class Resolutions(_Model):
    """How enforcement cases are resolved: by service, management or enforcement (the 721 method)."""

    service: Resolution
    management: Resolution
    enforcement: Resolution

    @model_validator(mode="after")
    def _sum_to_one(self) -> Resolutions:
        total = self.service.share + self.management.share + self.enforcement.share
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"the shares add up to {total:g}; they must add up to 1 (e.g. 0.7, 0.2, 0.1)")
        return self


class EnforcementCases(_Model):
    """Enforcement cases (问题, 案件) arriving for one enforcement power, resolved three ways."""

    id: Id
    name: Name
    name_en: Name | None = None
    function: Id = Field(description="The power whose officers handle the cases, wherever it is performed.")
    rate: Annotated[float, Field(ge=1e-6, le=1e6)] = Field(description="Cases per `per` of working time (Poisson).")
    per: Literal["day", "week", "month", "year"] = Field("year", description="Period of `rate`.")
    resolution: Resolutions
    statutory_limit_days: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        None, description="Time limit in working days for these cases, if any."
    )

    def rate_per_day(self) -> float:
        return self.rate / WORKING_DAYS_PER[self.per]


class SupportWork(_Model):
    """Work that support staff (office, HR, finance) do for a unit's case officers."""

    hours_per_case: Annotated[float, Field(ge=0, le=1000)] = Field(
        0.0, description="Support hours per case handled by the unit's officers (each visit of a file)."
    )
    hours_per_officer_per_year: Annotated[float, Field(ge=0, le=2000)] = Field(
        0.0, description="Support hours a year per frontline officer (pay, leave, supplies, documents)."
    )


class Workload(_Model):
    project_types: list[ProjectType] = Field(min_length=1)
    handoff: Handoff = Field(default_factory=Handoff)
    signoff_time: Distribution | None = Field(None, description="Time a leader takes per sign-off.")
    resubmission_delay: Distribution | None = Field(
        None, description="Time the applicant takes to complete a returned file."
    )
    statutory_limit_days: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        None, description="Statutory time limit in working days (e.g. 120)."
    )
    enforcement_cases: list[EnforcementCases] = Field(
        default_factory=list,
        description="Enforcement cases: they take officers' time and are reported as case types of their own.",
    )
    support_work: SupportWork = Field(
        default_factory=SupportWork,
        description="Support work per case and per officer, for units that give none of their own; "
        "what a unit's support staff cannot do, its officers do instead of cases.",
    )


# ---------------------------------------------------------------- simulation


class CalendarSpec(_Model):
    start: dt.date = Field(dt.date(2020, 1, 2), description="First calendar day of the run.")
    hours_per_day: Annotated[float, Field(ge=1, le=24)] = 8.0
    office_hours: str | None = Field(
        None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$",
        description="Opening and closing time of a working day, e.g. '08:30-17:30' (one block, no lunch "
        "break); sets hours_per_day. Default: 09:00 for hours_per_day hours.",
    )
    holidays: Literal["china", "none"] = Field(
        "china", description="Public holidays and make-up working days (调休) to observe."
    )
    extra_holidays: list[dt.date] = Field(default_factory=list)
    extra_workdays: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _hours_from_office_hours(cls, data: Any) -> Any:
        # One fact, one source: office hours give the length of the day; a
        # hours_per_day given beside them must agree.
        if isinstance(data, dict) and isinstance(data.get("office_hours"), str):
            span = _office_span(data["office_hours"])
            if span is not None:
                opens, closes = span
                hours = (closes - opens) / 60.0
                if hours <= 0:
                    raise ValueError(f"office_hours {data['office_hours']!r}: closing must come after opening")
                given = data.get("hours_per_day")
                if given is not None and isinstance(given, (int, float)) and abs(given - hours) > 1e-9:
                    raise ValueError(f"office_hours {data['office_hours']!r} last {hours:g} hours but "
                                     f"hours_per_day is {given:g}; give one of them")
                data = {**data, "hours_per_day": hours}
        return data

    def day_start(self) -> dt.time:
        """Time of day at which working days start (09:00 without office hours)."""
        span = _office_span(self.office_hours) if self.office_hours else None
        return dt.time(9, 0) if span is None else dt.time(span[0] // 60, span[0] % 60)


def _office_span(text: str) -> tuple[int, int] | None:
    """Minutes after midnight of opening and closing in 'HH:MM-HH:MM' (None if it is not that)."""
    import re

    m = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", text.strip())
    if m is None:
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2


#: Simulation engines (see orgsim.sim.engine): same seed, same results on each.
Engine = Literal["fifo", "simpy"]


class SimulationSpec(_Model):
    horizon_days: Annotated[float, Field(gt=0, le=100_000)] = Field(
        500.0, description="Length of a run in working days."
    )
    warmup_days: Annotated[float, Field(ge=0)] = Field(
        50.0, description="Working days deleted from the start of each run."
    )
    replications: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10, description="Independent runs per state; confidence intervals come from their spread."
    )
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = Field(
        20240101, description="Seed of every random stream; same seed, same results."
    )
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    utilisation_target: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.85, description="Utilisation the staffing estimate keeps each queue at or below."
    )
    engine: Engine = Field(
        "fifo",
        description="Simulation engine: 'fifo' (default; queues computed by the first-in first-out "
        "recursion, several times faster) or 'simpy' (the reference, an event per activity on SimPy). "
        "Same seed, same results on either.",
    )

    @model_validator(mode="after")
    def _warmup_inside(self) -> SimulationSpec:
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days}) must be less than horizon_days ({self.horizon_days})"
            )
        return self


# ---------------------------------------------------------------- reforms


class NewUnit(_Model):
    """A unit an operator creates."""

    id: Id
    name: Name
    name_en: Name | None = None
    kind: UnitKind = "bureau"
    parent: Id | None = Field(
        None,
        description="Default: merge and merge_zones use the first merged unit's parent; one_stop the "
        "top unit above the first moved function; spin_off none (outside the hierarchy).",
    )
    jurisdiction: Jurisdiction | None = None


class _Op(_Model):
    label: str | None = Field(None, description="Free text shown in the change log.")
    label_en: EnglishText | None = Field(None, description="The label in English.")


class _FunctionSelector(_Model):
    functions: list[Id] = Field(default_factory=list)
    categories: list[FunctionCategory] = Field(default_factory=list)
    within: Id | None = Field(None, description="Only functions owned in this unit's subtree.")


class Merge(_Op):
    """Big-department consolidation (大部制): several units become one."""

    op: Literal["merge"]
    units: list[Id] = Field(min_length=2)
    into: NewUnit
    leadership: Leadership | None = Field(
        None, description="Default: 1 chief, the largest deputy count among the merged units."
    )
    support_saving: Factor = Field(
        0.5, description="Share of support staff released, outside the largest unit's office."
    )
    pooled: bool = Field(True, description="Officers form one pool across the merged functions.")


class Strip(_Op, _FunctionSelector):
    """Function stripping (剥离社会事务): functions leave for receiving units."""

    op: Literal["strip"]
    to: Id = Field(description="Receiving unit (sub-district, township, city department).")
    staff: Literal["move", "release"] = "move"
    remove_emptied: bool = Field(
        True,
        description="Dissolve units left with no function and no child unit; their staff follow `staff`.",
    )


class Devolve(_Op, _FunctionSelector):
    """Power devolution (赋权): city powers move to a zone unit, accepted in phases."""

    op: Literal["devolve"]
    to: Id
    accept: Literal["all"] | list[Id] = Field(
        "all", description="Functions accepted now; the rest stay with the city (一次下放, 分步承接)."
    )
    staff: Literal["move", "release"] = Field(
        "move",
        description="Officers move with the power to the zone, or the city releases them "
        "and the zone handles the power with its own (pooled) officers.",
    )
    officers: Count | None = Field(
        None, description="Officers the zone hires for each accepted power (on top of `staff`)."
    )


class Flatten(_Op):
    """Remove a layer (压减层级): units go, children and functions move up."""

    op: Literal["flatten"]
    units: list[Id] = Field(min_length=1)
    signoff_cut: Annotated[int, Field(ge=0, le=10)] = Field(
        1, description="Sign-off levels removed from the functions that move up."
    )
    leaders: Literal["release", "keep"] = Field(
        "release", description="Leaders of removed units are released or join the parent as deputies."
    )


class OneStop(_Op, _FunctionSelector):
    """One-stop approval bureau (行政审批局): approvals move into one bureau."""

    op: Literal["one_stop"]
    bureau: NewUnit | Id = Field(
        description="New bureau, or the id of an existing unit (then `leadership` is not applied "
        "and `pooled` replaces the unit's setting)."
    )
    leadership: Leadership = Field(
        default_factory=lambda: Leadership(chief=1, deputies=2),
        description="Leadership of a new bureau (hired).",
    )
    pooled: bool = Field(True, description="The bureau's officers share one queue.")
    support: Count = Field(0, description="Support staff a new bureau hires.")
    non_case_share: Share | None = Field(
        None,
        description="Non-case share of a new bureau; default: the officers' former units' "
        "shares, weighted by the officers who move.",
    )
    intake: Id | None = Field(
        None, description="Function of the single intake window, prepended to affected paths."
    )


class NewFunction(_Model):
    """A function an operator creates (its officers are hired)."""

    id: Id
    name: Name
    name_en: Name | None = None
    category: FunctionCategory = "service"
    officers: Count = Field(1, description="Officers hired for it.")
    service_time: Distribution = Field(description="Officer time per case.")
    signoff_levels: Annotated[int, Field(ge=0, le=10)] = 0
    rework_probability: ReworkProbability = 0.0


class OneWindow(_Op):
    """One window (一个窗口): one intake step in front of every approval path; approvals stay put."""

    op: Literal["one_window"]
    window: NewUnit | Id = Field(
        description="New unit for the window (kind window by default), or the id of an existing unit."
    )
    intake: NewFunction | Id = Field(
        description="The intake function: a new one (its officers hired) or an existing one, moved to the "
        "window with its officers."
    )
    project_types: list[Id] = Field(
        default_factory=list, description="Project types that start at the window; empty means all."
    )
    leadership: Leadership = Field(
        default_factory=lambda: Leadership(chief=1, deputies=0), description="Leadership of a new window (hired)."
    )
    support: Count = Field(0, description="Support staff a new window hires.")
    step: Id = Field("window", description="Id of the intake step put in front of each path.")


def _enforcement_categories() -> list[FunctionCategory]:
    return ["penalty", "coercion"]


class EnforcementBureau(_Op, _FunctionSelector):
    """Comprehensive enforcement bureau (综合执法局): enforcement powers gathered in one bureau."""

    op: Literal["enforcement_bureau"]
    categories: list[FunctionCategory] = Field(
        default_factory=_enforcement_categories,
        description="Categories of power gathered (default: penalty and coercion).",
    )
    bureau: NewUnit | Id = Field(
        description="New bureau, or the id of an existing unit (then `leadership` is not applied)."
    )
    leadership: Leadership = Field(
        default_factory=lambda: Leadership(chief=1, deputies=2), description="Leadership of a new bureau (hired)."
    )
    pooled: bool = Field(True, description="The bureau's officers share one queue.")
    support: Count = Field(0, description="Support staff a new bureau hires.")
    non_case_share: Share | None = Field(
        None, description="Non-case share of a new bureau; default: the moving officers' former shares, weighted."
    )
    resolution: ResolutionShares | None = Field(
        None,
        description="New shares of the gathered powers' enforcement cases resolved by service, management and "
        "enforcement (the 721 method: 0.7, 0.2, 0.1); default: unchanged.",
    )


class HandoffSide(_Model):
    """Units (each with every unit below it) and jurisdictions: one side of a coordination, or a workforce's scope."""

    units: list[Id] = Field(default_factory=list, description="These units and every unit below them.")
    jurisdictions: list[Jurisdiction] = Field(default_factory=list, description="Every unit of these jurisdictions.")

    @model_validator(mode="after")
    def _something(self) -> HandoffSide:
        if not self.units and not self.jurisdictions:
            raise ValueError("give 'units' or 'jurisdictions'")
        return self


class Coordinate(_Op):
    """Coordination (吹哨报到, 直通车): hand-offs between two groups of units set or scaled."""

    op: Literal["coordinate"]
    between: list[HandoffSide] = Field(min_length=2, max_length=2, description="The two sides.")
    factor: Annotated[float, Field(ge=0, le=10)] | None = Field(
        None, description="Multiplies the hand-off delays between the sides (0.5: half as long)."
    )
    handoff: Distribution | None = Field(
        None, validate_default=True, description="A new delay for the hand-offs between the sides."
    )
    both_ways: bool = Field(True, description="Also the hand-offs from the second side to the first.")

    @field_validator("handoff", mode="after")
    @classmethod
    def _one_of(cls, handoff: Any, info: ValidationInfo) -> Any:
        # On the field, so that the message points at it (a model's own error would point at `op`).
        if (info.data.get("factor") is None) == (handoff is None):
            raise ValueError("give exactly one of 'factor' (scale the hand-offs) or 'handoff' (a new delay)")
        return handoff


class _PathSelector(_Model):
    project_types: list[Id] = Field(
        default_factory=list, description="Project types affected; empty means all that have the steps."
    )


class Parallelize(_Op, _PathSelector):
    """Parallel approval (并联审批): the listed steps run at once."""

    op: Literal["parallelize"]
    steps: list[Id] = Field(min_length=2)


class MergeSteps(_Op, _PathSelector):
    """Merged approval (多评合一, 多审合一): several steps become one."""

    op: Literal["merge_steps"]
    steps: list[Id] = Field(min_length=2)
    into: Id
    combine: Literal["sum", "max"] | Annotated[float, Field(gt=0, le=10)] = Field(
        "max", description="Service time of the merged step: sum, max, or a factor times the sum."
    )


class AgencyService(_Op, _PathSelector):
    """Agency service (领办代办): fewer returned files, faster resubmission."""

    op: Literal["agency_service"]
    rework_factor: Factor = Field(0.5, description="Multiplies every rework probability.")
    delay_factor: Factor = Field(0.5, description="Multiplies the applicant's resubmission delay.")


class SpinOff(_Op, _FunctionSelector):
    """Spin-off to a company (政企分开): functions and staff leave government headcount."""

    op: Literal["spin_off"]
    company: NewUnit | Id = Field(description="New company (kind company), or an existing one.")
    remove_emptied: bool = Field(
        True,
        description="Dissolve units left with no function and no child unit; their staff go to the company.",
    )


class MergeZones(_Op):
    """Merge zones or sub-districts (整合, 托管): several roots become one."""

    op: Literal["merge_zones"]
    units: list[Id] = Field(min_length=2)
    into: NewUnit
    leadership: Leadership | None = None
    support_saving: Factor = 0.5


class CapHeadcount(_Op):
    """Headcount cap (员额): posts in a subtree capped at ``cap``."""

    op: Literal["cap_headcount"]
    within: Id | list[Id] = Field(
        description="Root of the capped subtree, or a list of roots capped together (several zones)."
    )
    cap: Count
    policy: Literal["proportional", "support_first", "frontline_first"] = Field(
        "support_first", description="Where the cuts fall; leaders are never cut here."
    )


class SetLeadership(_Op):
    """Leadership posts (1 正 + N 副) per unit or per kind."""

    op: Literal["set_leadership"]
    units: list[Id] = Field(default_factory=list)
    kinds: list[UnitKind] = Field(default_factory=list)
    chief: Count = 1
    deputies: Count

    @model_validator(mode="after")
    def _some_target(self) -> SetLeadership:
        if not self.units and not self.kinds:
            raise ValueError("give 'units' or 'kinds'")
        return self


ReformOp = Annotated[
    (
        Merge
        | Strip
        | Devolve
        | Flatten
        | OneStop
        | Parallelize
        | MergeSteps
        | AgencyService
        | SpinOff
        | MergeZones
        | CapHeadcount
        | SetLeadership
        | Coordinate
        | OneWindow
        | EnforcementBureau
    ),
    Field(discriminator="op"),
]


class Phase(_Model):
    """A group of operators rolled out together (e.g. one year of a package)."""

    phase: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)] = Field(
        min_length=1, description="Name of the phase, e.g. a year."
    )
    phase_en: EnglishText | None = Field(
        None, description="The phase's name in English (shown with --lang en; references such as a "
        "re-appointment's `phase` use `phase`).")
    reforms: list[ReformOp] = Field(min_length=1)
    effective: dt.date | None = Field(
        None, description="Date the phase takes effect (orgsim timeline): the organisation changes on this day. "
        "Dated phases must be in order, after the calendar start and within the horizon.")


def _phase_or_op(value: object) -> str:
    # Tag by shape so that a bad operator reports its own errors only, not a
    # failed attempt to read it as a phase as well.
    if isinstance(value, dict):
        return "phase" if "phase" in value else "op"
    return "phase" if isinstance(value, Phase) else "op"


ReformItem = Annotated[
    Annotated[Phase, Tag("phase")] | Annotated[ReformOp, Tag("op")],
    Discriminator(_phase_or_op),
]

# ---------------------------------------------------------------- workforce and pay (orgsim timeline)


class LearningCurve(_Model):
    """A newcomer's pace: ``start`` of full pace on the first day, rising linearly to full pace (an assumption)."""

    start: Annotated[float, Field(gt=0, le=1)] = Field(1.0, description="Pace on the first day (share of full).")
    months_to_full: Annotated[float, Field(ge=0, le=120)] = Field(
        0.0, description="Months (of working time, 250/12 working days each) until full pace.")


class Reappointment(_Model):
    """All-staff re-appointment (全员聘任) when a dated phase takes effect."""

    phase: str = Field(min_length=1, description="Name of the dated phase at which every post is re-appointed.")
    filled_at_once: Probability = Field(
        1.0, description="Share of the posts not reserved that are filled on the day.")
    time_to_fill: Distribution | None = Field(None, description="Time to fill the other posts (working time).")
    reserved_share: Probability = Field(0.0, description="Share of posts held back for recruitment (Qingdao: 1/5-1/3).")
    reserved_fill: Distribution | None = Field(None, description="Time until a reserved post is filled.")
    outside_share: Probability = Field(
        0.0, description="Share of the posts filled on the day that go to someone from outside (a newcomer).")


class Workforce(_Model):
    """People in posts over the programme: the cap is posts; people come, learn, are appraised and go."""

    initial_fill: Probability = Field(1.0, description="Share of posts filled (by experienced staff) at the start.")
    attrition_per_year: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Chance a year that an officer leaves of their own accord (exponential time).")
    elimination_per_year: Probability = Field(
        0.0, description="Chance of failing the annual appraisal (末位淘汰; Qingdao 3-5 %, Yantai 2 %).")
    dismiss_after_failures: Annotated[int, Field(ge=1, le=5)] = Field(
        2, description="Failed appraisals that dismiss (Qingdao: one lowers the post, two dismiss).")
    appraisal_month: Annotated[int, Field(ge=1, le=12)] = Field(12, description="Month of the annual appraisal.")
    replacement_lag: Distribution | None = Field(None, description="Time to fill a post someone left (working time).")
    learning: LearningCurve = Field(default_factory=LearningCurve)
    reappointments: list[Reappointment] = Field(default_factory=list)
    scope: HandoffSide | None = Field(
        None, description="The units whose posts these rules and pay cover (the zone's own staff); the other posts "
        "are held throughout by experienced staff, serve at full strength and are not counted. Default: every unit.")


class PayShares(_Model):
    """Base and performance shares of pay from a date on (Jinan: 8.4:1.6, then 6:4, then 4:6)."""

    effective: dt.date
    base: Probability
    performance: Probability

    @model_validator(mode="after")
    def _add_up(self) -> PayShares:
        if abs(self.base + self.performance - 1.0) > 1e-9:
            raise ValueError(f"base ({self.base}) and performance ({self.performance}) must add up to 1")
        return self


PostCategory = Literal["leaders", "officers", "support"]


class Pay(_Model):
    """Pay: a year's pay per post category, its base/performance split, and the rules the articles give."""

    annual_yuan: dict[PostCategory, Annotated[float, Field(gt=0)]] = Field(
        description="A year's pay of a post of each category (yuan).")
    shares: list[PayShares] = Field(default_factory=list, description="Base/performance split over time, in order.")
    fixed_pool_yuan_per_year: Annotated[float, Field(gt=0)] | None = Field(
        None, description="A fixed pay pool (增人不增额、减人不减额): pay per head rises when heads fall.")
    rank_lost_multiple: Annotated[float, Field(ge=-1, le=0)] = Field(
        0.0, description="Change of pay multiple per rank lost after a failed appraisal (Yantai: -0.2).")
    rank_gained_multiple: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Change of pay multiple per rank gained (Yantai: +0.1; no promotions are simulated).")
    performance_paid_on_failure: Probability = Field(
        0.0, description="Share of the performance pay paid to someone who failed their last appraisal.")

    @model_validator(mode="after")
    def _in_order(self) -> Pay:
        dates = [x.effective for x in self.shares]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("shares must be in order of their effective dates, one per date")
        return self


# ---------------------------------------------------------------- the file


class Scenario(_Model):
    """One scenario file: an organisation, its workload and a reform package."""

    scenario: Meta
    units: list[UnitSpec] = Field(min_length=1)
    functions: list[FunctionSpec] = Field(default_factory=list)
    workload: Workload | None = None
    reforms: list[ReformItem] = Field(
        default_factory=list, description="Operators in order, optionally grouped in phases."
    )
    packages: dict[Id, list[ReformItem]] = Field(
        default_factory=dict,
        description="Several reform packages compared side by side (instead of `reforms`): name -> "
        "operators in order, optionally grouped in phases.",
    )
    simulation: SimulationSpec = Field(default_factory=SimulationSpec)
    workforce: Workforce | None = Field(
        None, description="People in posts over a programme (orgsim timeline); without it every post is filled.")
    pay: Pay | None = Field(None, description="Pay of the people in posts (orgsim timeline).")

    # Set by the loader: where the scenario came from, for messages, traces and provenance.
    _source_file: str = PrivateAttr("<scenario>")
    _base_dir: Path | None = PrivateAttr(None)
    _sha256: str = PrivateAttr("")
    _lines: Any = PrivateAttr(None)
    _document: Any = PrivateAttr(None)
    #: Arrival traces read by the loader, by (path as written, column).
    _traces: dict[tuple[str, str], Any] = PrivateAttr(default_factory=dict)

    @property
    def source_file(self) -> str:
        return self._source_file

    @property
    def base_dir(self) -> Path | None:
        return self._base_dir

    @property
    def sha256(self) -> str:
        """SHA-256 of the scenario text (or of its canonical JSON when built in code)."""
        if not self._sha256:
            import hashlib

            digest = hashlib.sha256(self.model_dump_json().encode())
            for (written, column), trace in sorted(self._traces.items()):
                digest.update(f"\0trace\0{written}\0{column}\0{trace.sha256}".encode())
            self._sha256 = digest.hexdigest()
        return self._sha256

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Scenario:
        """A copy; a changed copy gets its own hash (of its content), not the file's."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._sha256 = ""
            copy._document = None
        return copy

    def trace(self, written: str, column: str) -> Any:
        """The trace the loader read for this path and column (an ``orgsim.scenario._traces.Trace``), or None."""
        return self._traces.get((written, column))

    @property
    def traces(self) -> dict[tuple[str, str], Any]:
        """Every trace the loader read, by (path as written, column)."""
        return dict(self._traces)

    def document(self) -> dict[str, Any]:
        """The document as read from the file (a copy), or this scenario's fields when built in code."""
        import copy

        if self._document is None:
            return self.model_dump(mode="json", exclude_unset=True)
        return copy.deepcopy(self._document)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """Line in the scenario file of a field path, when loaded from a file."""
        return self._lines(loc) if self._lines is not None else None

    def operators(self, package: str | None = None) -> list[tuple[str | None, ReformOp]]:
        """The reform operators in order, each with its phase (or None): of ``reforms``, or of a package."""
        out: list[tuple[str | None, ReformOp]] = []
        for item in self.reforms if package is None else self.packages[package]:
            if isinstance(item, Phase):
                out.extend((item.phase, op) for op in item.reforms)
            else:
                out.append((None, item))
        return out

    def phase_names_en(self) -> dict[str, str]:
        """Each phase's English name, of the phases that give one (in ``reforms`` and every package)."""
        lists = [self.reforms, *self.packages.values()]
        return {item.phase: item.phase_en for items in lists for item in items
                if isinstance(item, Phase) and item.phase_en is not None}

    def state_names(self) -> list[str]:
        """The states a comparison simulates: ``before`` and ``after``, or ``before`` and each package."""
        return ["before", *(self.packages or ["after"])]
