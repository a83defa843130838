"""Tests of orgsim.sim.calendar: working days, China's holidays, conversions.

Facts about China's holidays are from the State Council's notices
(国务院办公厅关于…部分节假日安排的通知) for 2019, 2020 (with the Spring
Festival extension of 26 January 2020), and 2021.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgsim.errors import SimulationError
from orgsim.scenario.schema import CalendarSpec
from orgsim.sim.calendar import WORKDAY_START, WorkingCalendar

D = dt.date
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=150)


@pytest.fixture(scope="module")
def china() -> WorkingCalendar:
    return WorkingCalendar(D(2019, 1, 2), holidays="china")


@pytest.fixture(scope="module")
def plain() -> WorkingCalendar:
    return WorkingCalendar(D(2019, 1, 2), holidays="none")


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every date from first to last inclusive."""
    return [first + dt.timedelta(n) for n in range((last - first).days + 1)]


# ---------------------------------------------------------------- known holidays


def test_spring_festival_2020(china: WorkingCalendar) -> None:
    # 24 Jan - 30 Jan statutory arrangement, extended to 2 Feb (Covid-19);
    # the Saturday 1 Feb make-up day was cancelled by the extension.
    for d in days(D(2020, 1, 24), D(2020, 2, 2)):
        assert not china.is_working_day(d), d
    assert china.is_working_day(D(2020, 1, 19))  # Sunday make-up working day
    assert D(2020, 1, 19).weekday() == 6
    assert china.is_working_day(D(2020, 1, 23))
    assert china.is_working_day(D(2020, 2, 3))
    assert not china.is_working_day(D(2020, 1, 18))  # an ordinary Saturday
    assert not china.is_working_day(D(2020, 1, 1))  # New Year's Day


@pytest.mark.parametrize(
    "first_off, last_off, make_up_days, working_around",
    [
        # Spring Festival 2021: make-up on Sunday 7 and Saturday 20 February.
        (D(2021, 2, 11), D(2021, 2, 17), [D(2021, 2, 7), D(2021, 2, 20)], [D(2021, 2, 10), D(2021, 2, 18)]),
        # National Day 2019: make-up on Sunday 29 September and Saturday 12 October.
        (D(2019, 10, 1), D(2019, 10, 7), [D(2019, 9, 29), D(2019, 10, 12)], [D(2019, 10, 8)]),
        # National Day and Mid-Autumn Festival together, 2020: 1-8 October.
        (D(2020, 10, 1), D(2020, 10, 8), [D(2020, 9, 27), D(2020, 10, 10)], [D(2020, 10, 9)]),
    ],
    ids=["spring_festival_2021", "national_day_2019", "national_day_2020"],
)
def test_golden_weeks(china: WorkingCalendar, first_off, last_off, make_up_days, working_around) -> None:
    for d in days(first_off, last_off):
        assert not china.is_working_day(d), d
    for d in make_up_days:
        assert d.weekday() in (5, 6), d  # a weekend day worked
        assert china.is_working_day(d), d
    for d in working_around:
        assert china.is_working_day(d), d


def test_an_ordinary_sunday_after_a_make_up_saturday_is_off(china: WorkingCalendar) -> None:
    assert not china.is_working_day(D(2020, 10, 11))


def test_working_days_in_2020(china: WorkingCalendar) -> None:
    # 262 weekdays; 19 weekday holidays (1 Jan; 24, 27-31 Jan; 6 Apr; 1, 4, 5 May;
    # 25, 26 Jun; 1, 2, 5-8 Oct); 6 weekend make-up days (19 Jan, 26 Apr,
    # 9 May, 28 Jun, 27 Sep, 10 Oct): 262 - 19 + 6 = 249.
    assert china.working_days_between(D(2020, 1, 1), D(2021, 1, 1)) == 249


def test_make_up_day_across_new_year() -> None:
    # 2002's New Year days off (2-3 Jan) were made up on Sat-Sun 29-30 Dec 2001.
    cal = WorkingCalendar(D(2001, 12, 1))
    assert cal.is_working_day(D(2001, 12, 29)) and cal.is_working_day(D(2001, 12, 30))
    assert not cal.is_working_day(D(2002, 1, 2)) and not cal.is_working_day(D(2002, 1, 3))


def test_start_on_a_make_up_weekend() -> None:
    cal = WorkingCalendar.from_spec(CalendarSpec(start=D(2020, 1, 18)))  # a Saturday
    assert cal.start == D(2020, 1, 18)
    assert cal.first_working_date == D(2020, 1, 19)  # the make-up Sunday
    assert cal.to_date(0.0) == D(2020, 1, 19)
    assert cal.to_date(1.0) == D(2020, 1, 20)


# ---------------------------------------------------------------- conversions


def test_lead_time_across_spring_festival_2020(china: WorkingCalendar) -> None:
    t0 = float(china.calendar_to_working([D(2020, 1, 20)])[0])  # Monday 20 Jan, 09:00
    # Ten working days from Mon 20 Jan: 20, 21, 22, 23 Jan, then (24 Jan - 2 Feb
    # off) 3, 4, 5, 6, 7, 10 Feb. They end at the start of the 11th, Tue 11 Feb
    # 09:00: 11 days to the end of January + 11 days of February = 22 days.
    assert china.to_date(t0 + 10) == D(2020, 2, 11)
    assert china.working_to_calendar_days(t0, t0 + 10) == pytest.approx(22.0, abs=1e-12)
    # Starting at 13:00 (half a day in) the end is 13:00 on 11 Feb: still 22 days.
    assert china.working_to_calendar_days(t0 + 0.5, t0 + 10.5) == pytest.approx(22.0, abs=1e-12)
    # One working day from Thu 23 Jan 13:00 ends Mon 3 Feb 13:00: 11 days.
    t_thursday = t0 + 3.5
    assert china.to_datetime(t_thursday) == dt.datetime(2020, 1, 23, 13, 0)
    assert china.working_to_calendar_days(t_thursday, t_thursday + 1) == pytest.approx(11.0)
    # Half a day from Thu 23 Jan 15:00 (0.75): 2 working hours left that day,
    # 2 more on Mon 3 Feb, ending 11:00. 10 days + 20 h.
    assert china.working_to_calendar_days(t0 + 3.75, t0 + 4.25) == pytest.approx(10 + 20 / 24)


def test_weekend_counts_in_calendar_time() -> None:
    cal = WorkingCalendar(D(2021, 3, 4), holidays="none")  # a Thursday
    # 0.5 = Thu 13:00; 3.0 = start of working day 3 = Tue 9 Mar 09:00.
    assert cal.to_date(3.0) == D(2021, 3, 9)
    assert cal.working_to_calendar_days(0.5, 3.0) == pytest.approx(4 + 20 / 24)
    assert cal.working_to_calendar_days(3.0, 0.5) == pytest.approx(-(4 + 20 / 24))


def test_whole_days_are_the_start_of_a_day(china: WorkingCalendar) -> None:
    k = float(china.calendar_to_working([D(2020, 1, 23)])[0])
    assert china.to_date(k) == D(2020, 1, 23)
    assert china.to_date(k + 1) == D(2020, 2, 3)
    assert china.to_date(np.nextafter(k + 1, 0)) == D(2020, 1, 23)
    assert china.to_datetime(k) == dt.datetime.combine(D(2020, 1, 23), WORKDAY_START)
    assert china.to_datetime(k + 0.999999).date() == D(2020, 1, 23)


def test_to_datetime_uses_hours_per_day() -> None:
    cal = WorkingCalendar(D(2021, 3, 1), hours_per_day=6, holidays="none")
    assert cal.hours_per_day == 6.0
    assert cal.to_datetime(0.0) == dt.datetime(2021, 3, 1, 9, 0)
    assert cal.to_datetime(0.5) == dt.datetime(2021, 3, 1, 12, 0)
    assert cal.to_datetime(4.25) == dt.datetime(2021, 3, 5, 10, 30)
    # 0.5 (12:00 Mon) to 1.25 (10:30 Tue): 22.5 hours.
    assert cal.working_to_calendar_days(0.5, 1.25) == pytest.approx(22.5 / 24)


def test_calendar_to_working_moves_days_off_to_the_next_working_day(
    china: WorkingCalendar,
) -> None:
    dates = np.array(["2020-01-23", "2020-01-24", "2020-02-02", "2020-02-03"], dtype="datetime64[D]")
    t = china.calendar_to_working(dates)
    assert t.dtype == np.float64
    assert t[1] == t[2] == t[3] == t[0] + 1
    assert china.to_date(t[1]) == D(2020, 2, 3)
    # Accepts date objects, ISO strings and datetimes (time of day dropped).
    same = china.calendar_to_working(
        [D(2020, 1, 23), "2020-01-24", dt.datetime(2020, 2, 2, 18, 30), np.datetime64("2020-02-03T08:00")]
    )
    np.testing.assert_array_equal(same, t)


def test_none_calendar_has_five_working_days_a_week(plain: WorkingCalendar) -> None:
    for first in days(D(2019, 3, 1), D(2019, 3, 7)):  # every weekday as a start
        for weeks in (1, 2, 52, 521):
            end = first + dt.timedelta(7 * weeks)
            assert plain.working_days_between(first, end) == 5 * weeks
    assert plain.is_working_day(D(2020, 1, 24))  # no Spring Festival here
    assert not plain.is_working_day(D(2020, 1, 19))  # no make-up Sunday either
    # From a Monday, 5 working days are 7 calendar days, 10 are 14.
    monday = float(plain.calendar_to_working([D(2019, 3, 4)])[0])
    np.testing.assert_allclose(
        plain.working_to_calendar_days([monday, monday], [monday + 5, monday + 10]), [7.0, 14.0]
    )
    assert plain.published_years is None


@DETERMINISTIC
@given(first=st.dates(D(2019, 1, 2), D(2030, 12, 31)), weeks=st.integers(0, 300))
def test_none_calendar_weeks_property(plain: WorkingCalendar, first: dt.date, weeks: int) -> None:
    assert plain.working_days_between(first, first + dt.timedelta(7 * weeks)) == 5 * weeks


def test_extra_holidays_and_workdays() -> None:
    shanghai = WorkingCalendar(
        D(2020, 1, 2),
        extra_holidays=days(D(2020, 2, 3), D(2020, 2, 9)),  # Shanghai's extension
        extra_workdays=[D(2020, 2, 15), D(2020, 1, 28)],  # a Saturday, a public holiday
    )
    assert not shanghai.is_working_day(D(2020, 2, 3))
    assert shanghai.is_working_day(D(2020, 2, 10))
    assert shanghai.is_working_day(D(2020, 2, 15))
    assert shanghai.is_working_day(D(2020, 1, 28))
    k = float(shanghai.calendar_to_working([D(2020, 1, 23)])[0])
    assert [shanghai.to_date(k + n) for n in range(4)] == [
        D(2020, 1, 23),
        D(2020, 1, 28),
        D(2020, 2, 10),
        D(2020, 2, 11),
    ]
    plain = WorkingCalendar(D(2021, 3, 1), holidays="none", extra_holidays=[D(2021, 3, 2)])
    assert plain.to_date(1.0) == D(2021, 3, 3)
    with pytest.raises(SimulationError, match="both"):
        WorkingCalendar(D(2020, 1, 2), extra_holidays=[D(2020, 3, 2)], extra_workdays=[D(2020, 3, 2)])


def test_from_spec_matches_arguments() -> None:
    spec = CalendarSpec(
        start=D(2020, 1, 2),
        hours_per_day=7.5,
        holidays="china",
        extra_holidays=[D(2020, 3, 2)],
        extra_workdays=[D(2020, 3, 7)],
    )
    a = WorkingCalendar.from_spec(spec, horizon_working_days=600)
    b = WorkingCalendar(
        D(2020, 1, 2), 7.5, "china", [D(2020, 3, 2)], [D(2020, 3, 7)]
    )  # lazy table
    t = np.linspace(0, 599.9, 997)
    np.testing.assert_array_equal(a.to_dates(t), b.to_dates(t))
    assert a.holidays == "china" and a.hours_per_day == 7.5
    assert a.working_day_table[:100].tolist() == b.working_day_table[:100].tolist()


# ---------------------------------------------------------------- vectorised == scalar


def test_vectorised_equals_scalar(china: WorkingCalendar) -> None:
    rng = np.random.default_rng(20240101)
    t_start = rng.uniform(0, 1500, 300)
    t_start[:10] = np.floor(t_start[:10])  # some whole days
    t_end = t_start + rng.exponential(20, t_start.size)
    dates = china.to_dates(t_start)
    assert dates.dtype == np.dtype("datetime64[D]")
    assert [d.item() for d in dates] == [china.to_date(x) for x in t_start]
    elapsed = china.working_to_calendar_days(t_start, t_end)
    expected = [
        (china.to_datetime(e) - china.to_datetime(s)).total_seconds() / 86400
        for s, e in zip(t_start, t_end, strict=True)
    ]
    np.testing.assert_allclose(elapsed, expected, rtol=0, atol=1e-6)  # datetime has µs
    instants = china.to_calendar_days(np.sort(t_start))
    assert np.all(np.diff(instants) >= 0)
    epoch = dt.datetime(1970, 1, 1)
    np.testing.assert_allclose(
        china.to_calendar_days(t_start),
        [(china.to_datetime(s) - epoch).total_seconds() / 86400 for s in t_start],
        rtol=0,
        atol=1e-6,
    )
    # Dates back to working time: the same as counting working days from the start.
    day_list = [china.start + dt.timedelta(int(n)) for n in rng.integers(0, 2000, 200)]
    np.testing.assert_array_equal(
        china.calendar_to_working(day_list),
        [china.working_days_between(china.start, d) for d in day_list],
    )
    # Broadcasting and shapes.
    assert china.working_to_calendar_days(0.0, np.zeros((2, 3))).shape == (2, 3)
    assert china.to_dates(np.zeros((4, 1))).shape == (4, 1)
    grid = np.array(days(D(2020, 1, 1), D(2020, 1, 6)), dtype="datetime64[D]").reshape(2, 3)
    assert china.calendar_to_working(grid).shape == (2, 3)
    np.testing.assert_array_equal(
        china.working_days_between(np.array(day_list[:5]), D(2024, 1, 1)),
        [china.working_days_between(d, D(2024, 1, 1)) for d in day_list[:5]],
    )


@DETERMINISTIC
@given(d=st.dates(D(2019, 1, 2), D(2026, 12, 31)))
def test_round_trip_dates(china: WorkingCalendar, d: dt.date) -> None:
    t = china.calendar_to_working([d])[0]
    assert t == int(t)
    if china.is_working_day(d):
        assert china.to_date(t) == d
    else:
        landed = china.to_date(t)
        assert landed > d
        assert china.working_days_between(d, landed) == 0  # nothing working in between
        assert china.is_working_day(landed)


@DETERMINISTIC
@given(t=st.floats(0, 3000), span=st.floats(0, 200))
def test_calendar_time_never_shorter_than_working_time(
    china: WorkingCalendar, t: float, span: float
) -> None:
    elapsed = float(china.working_to_calendar_days(t, t + span)[()])
    assert elapsed >= span * china.hours_per_day / 24 - 1e-9
    assert china.to_date(t) <= china.to_date(t + span)


def test_table_is_monotone_and_read_only(china: WorkingCalendar) -> None:
    table = china.working_day_table
    assert table.dtype == np.int64
    assert np.all(np.diff(table) > 0)
    assert table[0] == (china.first_working_date - D(1970, 1, 1)).days
    with pytest.raises(ValueError):
        table[0] = 0


def test_dates_before_the_start_extend_the_table_backwards() -> None:
    cal = WorkingCalendar(D(2020, 1, 2))
    before = cal.to_date(300.0)
    # 2019: 261 weekdays; 17 weekday holidays (1 Jan; 4-8 Feb; 5 Apr; 1-3 May;
    # 7 Jun; 13 Sep; 1-4, 7 Oct); 6 make-up days (2, 3 Feb; 28 Apr; 5 May;
    # 29 Sep; 12 Oct): 261 - 17 + 6 = 250.
    assert cal.working_days_between(D(2019, 1, 1), D(2020, 1, 1)) == 250
    assert cal.working_days_between(D(2020, 1, 1), D(2019, 1, 1)) == -250
    assert cal.to_date(300.0) == before
    assert cal.to_date(0.0) == D(2020, 1, 2)


# ---------------------------------------------------------------- library coverage


def test_published_and_estimated_years() -> None:
    cal = WorkingCalendar(D(2020, 1, 2))
    assert cal.published_years is not None
    assert 2001 in cal.published_years and 2021 in cal.published_years
    # An estimated year (no published arrangement): no weekend working days.
    year = 2090
    assert year not in cal.published_years
    weekend = [d for d in days(D(year, 1, 1), D(year, 12, 31)) if d.weekday() >= 5]
    assert not any(cal.is_working_day(d) for d in weekend)
    assert not cal.is_working_day(D(year, 10, 2))  # statutory National Day still off


def test_beyond_the_library_years_is_an_error() -> None:
    cal = WorkingCalendar(D(2020, 1, 2), horizon_working_days=1000)
    with pytest.raises(SimulationError, match="2101"):
        cal.to_date(40_000.0)
    with pytest.raises(SimulationError, match="2101"):
        cal.calendar_to_working([D(2101, 1, 3)])
    with pytest.raises(SimulationError, match="1949"):
        WorkingCalendar(D(1949, 10, 1))
    with pytest.raises(SimulationError, match="2101"):
        WorkingCalendar(D(2020, 1, 2), horizon_working_days=40_000)
    far = WorkingCalendar(D(2020, 1, 2), holidays="none")
    assert far.to_date(40_000.0).year == 2173


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [-0.001, -1, float("nan"), float("inf"), float("-inf")])
def test_bad_working_times(china: WorkingCalendar, bad: float) -> None:
    with pytest.raises(SimulationError, match="working time"):
        china.to_date(bad)
    with pytest.raises(SimulationError, match="working time"):
        china.to_datetime(bad)
    with pytest.raises(SimulationError, match="working time"):
        china.to_dates(np.array([1.0, bad, 2.0]))
    with pytest.raises(SimulationError, match="t_end_working_days"):
        china.working_to_calendar_days(np.array([1.0, 2.0]), np.array([3.0, bad]))
    with pytest.raises(SimulationError, match="t_start_working_days"):
        china.working_to_calendar_days(bad, 3.0)
    with pytest.raises(SimulationError):
        china.ensure_horizon(bad)


def test_other_errors(china: WorkingCalendar) -> None:
    with pytest.raises(SimulationError, match="single number"):
        china.to_date(np.array([1.0, 2.0]))
    with pytest.raises(SimulationError, match="before the calendar start"):
        china.calendar_to_working(["2018-12-31", "2019-03-01"])
    with pytest.raises(SimulationError, match="missing"):
        china.calendar_to_working(np.array(["2019-03-01", "NaT"], dtype="datetime64[D]"))
    with pytest.raises(SimulationError, match="expected dates"):
        china.calendar_to_working(np.array([1, 2]))
    with pytest.raises(SimulationError, match="broadcast"):
        china.working_to_calendar_days(np.zeros(2), np.zeros(3))
    with pytest.raises(SimulationError, match="holidays"):
        WorkingCalendar(D(2020, 1, 2), holidays="hk")  # type: ignore[arg-type]
    with pytest.raises(SimulationError, match="hours_per_day"):
        WorkingCalendar(D(2020, 1, 2), hours_per_day=0)
    assert china.calendar_to_working(np.array([], dtype="datetime64[D]")).shape == (0,)
