"""Working-day calendar: simulation time to calendar dates and back.

The simulation clock counts **working days** as a float. Working time ``0.0``
is the start of the first working day on or after :attr:`CalendarSpec.start
<orgsim.scenario.schema.CalendarSpec.start>`; ``1.0`` is one full working day
of ``hours_per_day`` hours later. Calendar time, in which applicants
experience their lead times, also runs through nights, weekends and public
holidays; :class:`WorkingCalendar` converts between the two.

Conventions
-----------
* Working day ``k`` (``k = 0, 1, 2, ...``) is the ``k``-th working day on or
  after the start date. Working time ``t`` with ``k <= t < k + 1`` falls on
  working day ``k``, at the day's start (``day_start``, by default
  ``WORKDAY_START``, 09:00) plus ``(t - k) * hours_per_day`` hours. Working
  hours are one uninterrupted block (09:00 to 17:00 for 8 hours; no lunch
  break); a scenario's ``simulation.calendar.office_hours`` sets both.
* The end of working day ``k`` and the start of working day ``k + 1`` are the
  same working instant; the calendar maps it to the **start of day k + 1**
  (the mapping is right-continuous). Hence a span of a whole number ``N`` of
  working days starting at the start of a day covers a whole number of
  calendar days: 5 working days from Monday 09:00 end on the next Monday
  09:00, 7 calendar days later.
* A calendar date that is not a working day maps to the start of the next
  working day (an application filed on a Sunday is taken in on Monday).

Holidays
--------
``holidays="china"`` uses :class:`holidays.China` (public category only: the
half-day holidays of some groups, e.g. Women's Day, are ignored). A day is a
working day if it is Monday to Friday and not a public holiday or substituted
day off, or if it is a weekend day listed in ``weekend_workdays`` (make-up
working day, 调休). ``holidays="none"`` means Monday to Friday. Then
``extra_holidays`` are removed and ``extra_workdays`` added.

The holidays library holds the State Council's published arrangements only
for the years in :attr:`WorkingCalendar.published_years` (2001-2026 with
holidays 0.109). For other years it *computes* the statutory days from rules
(lunar dates included) and, from 2000 on, moves a statutory day falling on a
weekend to the next weekday ("observed"); it gives no make-up working days and
no bridging days off. Such years therefore have roughly the right number of
holidays but not the real golden-week layout, and no weekend working days.
The library covers 1950-2100 only (outside it returns no holidays at all,
silently); a ``"china"`` calendar raises :class:`~orgsim.errors.SimulationError`
rather than silently treating those years as Monday-to-Friday. Local
extensions (e.g. Shanghai's Spring Festival 2020 extension to 9 February) are
not in the national data; add them with ``extra_holidays``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from orgsim.errors import SimulationError

if TYPE_CHECKING:
    from orgsim.scenario.schema import CalendarSpec

__all__ = ["WorkingCalendar", "HolidayMode", "WORKDAY_START"]

HolidayMode = Literal["china", "none"]

#: Time of day at which every working day starts.
WORKDAY_START = dt.time(9, 0)

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
#: 1970-01-01 was a Thursday: weekday (Monday = 0) of epoch day d is (d + 3) % 7.
_EPOCH_WEEKDAY = 3
#: Fewest working days a (Monday-to-Friday based) year can have; sizes extensions.
_MIN_WORKING_DAYS_PER_YEAR = 240
#: Extend the table by at most this many years beyond what is needed.
_MAX_EXTRA_YEARS = 50
#: Working times beyond this cannot fall before the year 9999 ends.
_MAX_WORKING_DAYS = 3_000_000.0


def _epoch_day(date: dt.date) -> int:
    return date.toordinal() - _EPOCH_ORDINAL


def _date_of(epoch_day: int) -> dt.date:
    return dt.date.fromordinal(int(epoch_day) + _EPOCH_ORDINAL)


def _year_of(epoch_day: int) -> int:
    return _date_of(epoch_day).year


def _as_epoch_days(values: Any, what: str) -> np.ndarray:
    """Days since 1970-01-01 (int64 array) of dates; the time of day is dropped."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.int64)
    if arr.dtype.kind in "biufc":
        raise SimulationError(f"{what}: expected dates, got numbers of dtype {arr.dtype}")
    try:
        arr = arr.astype("datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise SimulationError(f"{what}: cannot read as dates ({exc})") from None
    missing = np.isnat(arr)
    if missing.any():
        raise SimulationError(f"{what}: {int(missing.sum())} missing date(s) (NaT or None)")
    return arr.astype(np.int64)


def _check_times(t_working_days: Any, what: str) -> np.ndarray:
    """``t_working_days`` as a float64 array, or SimulationError if any is < 0, NaN or infinite."""
    try:
        arr = np.asarray(t_working_days, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SimulationError(f"{what}: working times must be numbers ({exc})") from None
    bad = ~(arr >= 0.0) | (arr > _MAX_WORKING_DAYS)
    if bad.any():
        n_bad = int(bad.sum())
        more = f" ({n_bad - 1} more bad values)" if n_bad > 1 else ""
        raise SimulationError(
            f"{what}: working time must be a finite number >= 0 (and at most "
            f"{_MAX_WORKING_DAYS:g}), got {float(arr[bad].flat[0])!r}{more}"
        )
    return arr


def _china_published_years() -> range | None:
    """Years for which the holidays library has China's published arrangement."""
    try:
        from holidays.countries.china import ChinaStaticHolidays

        years = sorted(ChinaStaticHolidays.special_public_holidays)
    except (ImportError, AttributeError):  # pragma: no cover - other library versions
        return None
    return range(years[0], years[-1] + 1) if years else None


def _china_year_range() -> tuple[int, int]:
    import holidays as holidays_lib

    return (
        int(getattr(holidays_lib.China, "start_year", 1950)),
        int(getattr(holidays_lib.China, "end_year", 2100)),
    )


class WorkingCalendar:
    """Working days of a simulation run and conversions to calendar time.

    Parameters
    ----------
    start : datetime.date
        First calendar day of the run. Working time 0 is the start (09:00)
        of the first working day on or after it.
    hours_per_day : float, default 8
        Length of one working day in hours, ``0 < hours_per_day <= 24``. Only
        :meth:`to_datetime` and the fractional part of
        :meth:`working_to_calendar_days` depend on it.
    holidays : {"china", "none"}, default "china"
        ``"china"``: public holidays, substituted days off and make-up working
        days (调休) of mainland China from the ``holidays`` library.
        ``"none"``: Monday to Friday.
    extra_holidays : iterable of datetime.date, optional
        Further days off (e.g. local extensions); override everything else.
    extra_workdays : iterable of datetime.date, optional
        Further working days (e.g. a local make-up Saturday); override
        everything else. A date may not be in both lists.
    horizon_working_days : float, optional
        Precompute the table of working days far enough for this working
        time. Without it the table starts with two calendar years and grows
        on demand; either way results are identical.

    Raises
    ------
    SimulationError
        On a bad ``hours_per_day`` or ``holidays``, a date in both extra
        lists, or a ``"china"`` calendar outside the years the holidays
        library covers (1950-2100).

    Notes
    -----
    Internally a sorted int64 array holds the calendar day (days since
    1970-01-01) of every working day of whole calendar years; working day
    ``k`` is entry ``k0 + k`` where entry ``k0`` is the first working day on
    or after ``start``. Conversions are ``np.floor``, indexing and
    ``np.searchsorted`` on that array: no Python loop per value. The array is
    extended (forwards or backwards, by whole years) when a call needs it.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = WorkingCalendar(dt.date(2020, 1, 17))  # a Friday
    >>> cal.to_date(1.0)  # Sunday 19 January 2020 was a make-up working day
    datetime.date(2020, 1, 19)
    >>> float(cal.working_to_calendar_days(0.0, 1.0)[()])
    2.0
    """

    def __init__(
        self,
        start: dt.date,
        hours_per_day: float = 8.0,
        holidays: HolidayMode = "china",
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
        *,
        horizon_working_days: float | None = None,
        day_start: dt.time = WORKDAY_START,
    ) -> None:
        if holidays not in ("china", "none"):
            raise SimulationError(f"calendar holidays must be 'china' or 'none', got {holidays!r}")
        try:
            hours = float(hours_per_day)
        except (TypeError, ValueError):
            raise SimulationError(f"hours_per_day must be a number, got {hours_per_day!r}") from None
        if not 0.0 < hours <= 24.0:
            raise SimulationError(f"hours_per_day must be in (0, 24], got {hours_per_day!r}")
        if isinstance(start, dt.datetime):
            start = start.date()
        if not isinstance(start, dt.date):
            raise SimulationError(f"calendar start must be a date, got {start!r}")

        if not isinstance(day_start, dt.time):
            raise SimulationError(f"day_start must be a time of day, got {day_start!r}")
        start_hours = day_start.hour + day_start.minute / 60.0 + day_start.second / 3600.0
        if start_hours + hours > 24.0 + 1e-9:
            raise SimulationError(f"a working day of {hours:g} hours from {day_start:%H:%M} ends after midnight")
        self._start = start
        self._hours_per_day = hours
        self._day_start = day_start
        self._day_start_days = start_hours / 24.0
        self._mode: HolidayMode = holidays
        self._extra_off = np.unique(_as_epoch_days(list(extra_holidays), "extra_holidays"))
        self._extra_on = np.unique(_as_epoch_days(list(extra_workdays), "extra_workdays"))
        both = np.intersect1d(self._extra_off, self._extra_on)
        if both.size:
            listed = ", ".join(str(_date_of(d)) for d in both[:5])
            raise SimulationError(f"dates in both extra_holidays and extra_workdays: {listed}")

        if holidays == "china":
            self._year_limits = _china_year_range()
            self._published_years = _china_published_years()
        else:
            self._year_limits = (dt.MINYEAR, dt.MAXYEAR)
            self._published_years = None
        self._check_year(start.year, f"calendar start {start}")

        self._start_day = _epoch_day(start)
        self._y_lo = start.year
        self._y_hi = min(start.year + 1, self._year_limits[1])
        self._days = self._build_years(self._y_lo, self._y_hi)
        self._k0 = 0
        self._cover_days(self._start_day, self._start_day)
        if horizon_working_days is not None:
            self.ensure_horizon(horizon_working_days)

    @classmethod
    def from_spec(
        cls, spec: CalendarSpec, *, horizon_working_days: float | None = None
    ) -> WorkingCalendar:
        """Build the calendar of a scenario's ``simulation.calendar`` section.

        Parameters
        ----------
        spec : CalendarSpec
            Start date, hours per day, holiday mode and extra days.
        horizon_working_days : float, optional
            Precompute the table up to this working time (see the class).

        Returns
        -------
        WorkingCalendar
        """
        return cls(
            spec.start,
            hours_per_day=spec.hours_per_day,
            holidays=spec.holidays,
            extra_holidays=spec.extra_holidays,
            extra_workdays=spec.extra_workdays,
            horizon_working_days=horizon_working_days,
            day_start=spec.day_start(),
        )

    # ------------------------------------------------------------ properties

    @property
    def start(self) -> dt.date:
        """Calendar start as given (may be a non-working day)."""
        return self._start

    @property
    def first_working_date(self) -> dt.date:
        """Date of working time 0: the first working day on or after :attr:`start`."""
        return _date_of(self._days[self._k0])

    @property
    def day_start(self) -> dt.time:
        """Time of day at which every working day starts (09:00 unless the office hours say otherwise)."""
        return self._day_start

    @property
    def hours_per_day(self) -> float:
        """Hours in one working day."""
        return self._hours_per_day

    @property
    def holidays(self) -> HolidayMode:
        """Holiday mode, ``"china"`` or ``"none"``."""
        return self._mode

    @property
    def published_years(self) -> range | None:
        """Years whose official arrangement the holidays library holds.

        ``None`` for ``holidays="none"``. For other years of a ``"china"``
        calendar the holidays are rule-based estimates without make-up
        working days (see the module notes).
        """
        return self._published_years

    @property
    def working_day_table(self) -> np.ndarray:
        """Calendar day (int64 days since 1970-01-01) of working days 0, 1, 2, ...

        Covers the working days computed so far (at least through the end of
        the calendar year after :attr:`start`). A read-only view.
        """
        view = self._days[self._k0 :]
        view.flags.writeable = False
        return view

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(start={self._start.isoformat()!r}, hours_per_day={self._hours_per_day:g}, "
            f"holidays={self._mode!r}, extra_holidays={self._extra_off.size}, "
            f"extra_workdays={self._extra_on.size})"
        )

    # ------------------------------------------------------------ table

    def _check_year(self, year: int, what: str) -> None:
        lo, hi = self._year_limits
        if not lo <= year <= hi:
            if self._mode == "china":
                raise SimulationError(
                    f"{what} needs the year {year}, but the holidays library has China's holidays "
                    f"only for {lo}-{hi}; use holidays: none or a shorter horizon"
                )
            raise SimulationError(f"{what} needs the year {year}, outside the calendar range {lo}-{hi}")

    def _build_years(self, y_lo: int, y_hi: int) -> np.ndarray:
        """Sorted epoch days of the working days in calendar years ``y_lo..y_hi``."""
        day_lo = _epoch_day(dt.date(y_lo, 1, 1))
        day_hi = _epoch_day(dt.date(y_hi, 12, 31)) + 1
        days = np.arange(day_lo, day_hi, dtype=np.int64)
        working = (days + _EPOCH_WEEKDAY) % 7 < 5
        if self._mode == "china":
            off, on = self._china_days(y_lo, y_hi)
            working &= ~np.isin(days, off)
            working |= np.isin(days, on)
        working &= ~np.isin(days, self._extra_off)
        working |= np.isin(days, self._extra_on)
        return days[working]

    def _china_days(self, y_lo: int, y_hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Epoch days of China's days off and make-up working days (any in ``y_lo-1..y_hi+1``)."""
        import holidays as holidays_lib

        lib_lo, lib_hi = self._year_limits
        # Neighbouring years too: an arrangement may reach across 1 January
        # (2002's New Year days off were made up on 29-30 December 2001).
        # holidays 0.109 lists such December make-up days whatever years are
        # asked for, but that is not documented, so do not rely on it.
        years = range(max(y_lo - 1, lib_lo), min(y_hi + 1, lib_hi) + 1)
        china = holidays_lib.China(years=years)
        off = np.fromiter((_epoch_day(d) for d in china), dtype=np.int64)
        # weekend_workdays also holds a few dates of other years (2001-2011
        # make-up days in December); they are correct, and filtered by np.isin.
        on = np.fromiter((_epoch_day(d) for d in china.weekend_workdays), dtype=np.int64)
        return off, on

    def _cover_years(self, y_lo: int, y_hi: int) -> None:
        """Extend the table to whole calendar years ``y_lo..y_hi`` (at least)."""
        if y_lo < self._y_lo:
            self._check_year(y_lo, "a date")
            self._days = np.concatenate([self._build_years(y_lo, self._y_lo - 1), self._days])
            self._y_lo = y_lo
        if y_hi > self._y_hi:
            self._check_year(y_hi, "a date")
            self._days = np.concatenate([self._days, self._build_years(self._y_hi + 1, y_hi)])
            self._y_hi = y_hi
        self._k0 = int(np.searchsorted(self._days, self._start_day, side="left"))

    def _grow_forward(self, years_needed: int, what: str) -> None:
        """Add at least ``years_needed`` years at the end (more, up to doubling)."""
        span = self._y_hi - self._y_lo + 1
        lib_hi = self._year_limits[1]
        if self._y_hi >= lib_hi:
            self._check_year(self._y_hi + 1, what)
        y_new = self._y_hi + max(1, years_needed, min(span, _MAX_EXTRA_YEARS))
        self._cover_years(self._y_lo, min(y_new, lib_hi))

    def _cover_dates(self, day_lo: int, day_hi: int) -> None:
        """Make the table hold every working day of the years from ``day_lo`` to ``day_hi``."""
        self._check_year(_year_of(day_lo), f"date {_date_of(day_lo)}")
        self._check_year(_year_of(day_hi), f"date {_date_of(day_hi)}")
        self._cover_years(min(self._y_lo, _year_of(day_lo)), max(self._y_hi, _year_of(day_hi)))

    def _cover_days(self, day_lo: int, day_hi: int) -> None:
        """As :meth:`_cover_dates`, and hold a working day on or after ``day_hi``."""
        self._cover_dates(day_lo, day_hi)
        what = f"the first working day on or after {_date_of(day_hi)}"
        while self._days.size == 0 or self._days[-1] < day_hi:
            self._grow_forward(1, what)

    def _cover_ordinal(self, k_max: int, t_max: float) -> None:
        """Make the table hold working day ``k_max``."""
        what = f"working time {t_max:g}"
        while self._k0 + k_max >= self._days.size:
            missing = self._k0 + k_max - self._days.size + 1
            self._grow_forward(math.ceil(missing / _MIN_WORKING_DAYS_PER_YEAR), what)

    def ensure_horizon(self, horizon_working_days: float) -> None:
        """Precompute working days up to working time ``horizon_working_days``.

        Parameters
        ----------
        horizon_working_days : float
            Largest working time the run will convert.

        Raises
        ------
        SimulationError
            If the horizon is negative or NaN, or (``"china"``) reaches
            beyond the years the holidays library covers.
        """
        t = float(_check_times(horizon_working_days, "horizon_working_days").max(initial=0.0))
        self._cover_ordinal(int(math.floor(t)), t)

    def _day_and_fraction(self, t_working_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Epoch day of the working day of each time, and the fraction of it elapsed."""
        k = np.floor(t_working_days).astype(np.int64)
        if k.size:
            self._cover_ordinal(int(k.max()), float(t_working_days.max()))
        return self._days[self._k0 + k], t_working_days - k

    # ------------------------------------------------------------ scalar API

    def is_working_day(self, date: dt.date) -> bool:
        """Whether ``date`` is a working day of this calendar.

        Parameters
        ----------
        date : datetime.date or numpy.datetime64
            Calendar date (any time of day is ignored).

        Returns
        -------
        bool
        """
        epoch_days = _as_epoch_days(date, "date")
        if epoch_days.size != 1:
            raise SimulationError("is_working_day takes a single date")
        day = int(epoch_days.reshape(-1)[0])
        self._cover_dates(day, day)
        i = int(np.searchsorted(self._days, day, side="left"))
        return bool(i < self._days.size and self._days[i] == day)

    def to_date(self, t_working_days: float) -> dt.date:
        """Calendar date on which working time ``t_working_days`` falls.

        Parameters
        ----------
        t_working_days : float
            Working time, ``>= 0``. Whole numbers are the start of a working
            day (see the module conventions).

        Returns
        -------
        datetime.date

        Raises
        ------
        SimulationError
            If the time is negative, NaN or infinite, or not a single number.
        """
        t = self._scalar_time(t_working_days)
        day, _ = self._day_and_fraction(t)
        return _date_of(int(day))

    def to_datetime(self, t_working_days: float) -> dt.datetime:
        """Calendar date and time of working time ``t_working_days``.

        Working days start at :attr:`day_start` (09:00 by default) and last
        ``hours_per_day`` hours without a break, so with 8 hours working time
        ``k + 0.5`` is 13:00 on working day ``k``.

        Parameters
        ----------
        t_working_days : float
            Working time, ``>= 0``.

        Returns
        -------
        datetime.datetime
            Naive (local) date and time.
        """
        t = self._scalar_time(t_working_days)
        day, fraction = self._day_and_fraction(t)
        start = dt.datetime.combine(_date_of(int(day)), self._day_start)
        return start + dt.timedelta(hours=float(fraction) * self._hours_per_day)

    @staticmethod
    def _scalar_time(t_working_days: Any) -> np.ndarray:
        t = _check_times(t_working_days, "t_working_days")
        if t.ndim != 0:
            raise SimulationError(
                "t_working_days must be a single number here; use to_dates() for arrays"
            )
        return t

    def working_days_between(self, d1: Any, d2: Any) -> Any:
        """Working days ``d`` with ``d1 <= d < d2``, as ``numpy.busday_count``.

        Negative when ``d2 < d1``. The count is additive:
        ``between(a, b) + between(b, c) == between(a, c)``, and for dates on
        or after the start it equals
        ``calendar_to_working(d2) - calendar_to_working(d1)``.

        Parameters
        ----------
        d1, d2 : datetime.date, numpy.datetime64 or array-like of them
            Calendar dates (broadcast against each other); may lie before the
            calendar start.

        Returns
        -------
        int or numpy.ndarray of int64
            An ``int`` when both arguments are single dates.
        """
        a = _as_epoch_days(d1, "d1")
        b = _as_epoch_days(d2, "d2")
        if a.size and b.size:
            lo = int(min(a.min(), b.min()))
            hi = int(max(a.max(), b.max()))
            self._cover_dates(lo, hi)
        count = np.searchsorted(self._days, b, side="left") - np.searchsorted(self._days, a, side="left")
        count = np.asarray(count, dtype=np.int64)
        return int(count) if count.ndim == 0 else count

    # ------------------------------------------------------------ vectorised API

    def to_dates(self, t_working_days: Any) -> np.ndarray:
        """Vectorised :meth:`to_date`.

        Parameters
        ----------
        t_working_days : array-like of float
            Working times, ``>= 0``.

        Returns
        -------
        numpy.ndarray of datetime64[D]
            Same shape as the input.
        """
        t = _check_times(t_working_days, "t_working_days")
        day, _ = self._day_and_fraction(t)
        return day.astype("datetime64[D]")

    def working_to_calendar_days(self, t_start_working_days: Any, t_end_working_days: Any) -> np.ndarray:
        """Elapsed calendar days between two working-time instants.

        Each instant is placed in calendar time (date of its working day,
        plus 09:00, plus the elapsed fraction of ``hours_per_day``) and the
        difference is taken in days of 24 hours. Nights, weekends and
        holidays in between count in full. For example, with 8 hours a day,
        a case submitted at working time 0.5 on a Thursday (13:00) and
        finished at working time 3.0 (the following Tuesday, 09:00) took
        ``4 + 20/24`` calendar days.

        Parameters
        ----------
        t_start_working_days, t_end_working_days : array-like of float
            Working times, ``>= 0``; broadcast against each other.

        Returns
        -------
        numpy.ndarray of float64
            ``calendar(t_end) - calendar(t_start)`` in days, broadcast shape;
            negative where ``t_end < t_start``. Whole numbers when both times
            are whole numbers.

        Raises
        ------
        SimulationError
            If any time is negative, NaN or infinite, or the shapes do not
            broadcast.
        """
        t_start = _check_times(t_start_working_days, "t_start_working_days")
        t_end = _check_times(t_end_working_days, "t_end_working_days")
        try:
            t_start, t_end = np.broadcast_arrays(t_start, t_end)
        except ValueError as exc:
            raise SimulationError(f"working_to_calendar_days: {exc}") from None
        day_start, fraction_start = self._day_and_fraction(t_start)
        day_end, fraction_end = self._day_and_fraction(t_end)
        whole_days = (day_end - day_start).astype(np.float64)
        return whole_days + (fraction_end - fraction_start) * (self._hours_per_day / 24.0)

    def to_calendar_days(self, t_working_days: Any) -> np.ndarray:
        """Calendar instant of working times, in days since 1970-01-01 00:00.

        Parameters
        ----------
        t_working_days : array-like of float
            Working times, ``>= 0``.

        Returns
        -------
        numpy.ndarray of float64
            Same shape as the input; e.g. 13:00 on a date is the date's epoch
            day plus ``13/24``.
        """
        t = _check_times(t_working_days, "t_working_days")
        day, fraction = self._day_and_fraction(t)
        return day + (self._day_start_days + fraction * (self._hours_per_day / 24.0))

    def calendar_to_working(self, dates: Any) -> np.ndarray:
        """Working time of the start of each calendar date.

        A working day maps to its start (a whole number); a day that is not
        a working day (weekend, holiday) maps to the start of the next
        working day. Used to place arrivals of a trace given as dates.

        Parameters
        ----------
        dates : array-like of datetime64, datetime.date or ISO strings
            Calendar dates on or after :attr:`start`; a time of day is
            dropped (the date alone counts).

        Returns
        -------
        numpy.ndarray of float64
            Working times, same shape as ``dates``.

        Raises
        ------
        SimulationError
            If a date is missing (NaT), before the calendar start, or (for
            ``"china"``) after the years the holidays library covers.
        """
        days = _as_epoch_days(dates, "dates")
        if days.size == 0:
            return np.zeros(days.shape, dtype=np.float64)
        early = days < self._start_day
        if early.any():
            first = _date_of(int(days[early].min()))
            raise SimulationError(
                f"dates: {int(early.sum())} date(s) before the calendar start "
                f"{self._start}, earliest {first}"
            )
        day_hi = int(days.max())
        self._cover_days(self._start_day, day_hi)
        index = np.searchsorted(self._days, days, side="left")
        return (index - self._k0).astype(np.float64)

    # ------------------------------------------------------------ timestamps (event logs)

    def to_datetime64(self, t_working_days: Any) -> np.ndarray:
        """Vectorised :meth:`to_datetime`: local date and time of working times, as ``datetime64[us]``.

        Computed in whole days plus microseconds of the day, so the result is
        exact to the microsecond (a float count of days since 1970 is not).
        """
        t = _check_times(t_working_days, "t_working_days")
        day, fraction = self._day_and_fraction(t)
        day_us = np.int64(86_400_000_000)
        of_day = np.rint((self._day_start_days + fraction * (self._hours_per_day / 24.0)) * 86_400_000_000.0)
        return (day * day_us + of_day.astype(np.int64)).astype("datetime64[us]")

    def from_datetime64(self, stamps: Any) -> np.ndarray:
        """Working time of local date-times: the inverse of :meth:`to_datetime64` inside office hours.

        A time before the day's start counts as the start, a time after its
        end as the end (the start of the next working day); a time on a day
        that is not a working day counts as the start of the next working day.
        So a case handled on either side of a closure takes only the working
        time between.

        Raises
        ------
        SimulationError
            If a time is missing (NaT) or falls before :attr:`start`.
        """
        us = np.asarray(stamps).astype("datetime64[us]")
        if us.size and np.isnat(us).any():
            raise SimulationError(f"timestamps: {int(np.isnat(us).sum())} missing (NaT)")
        ticks = us.astype(np.int64)
        days = np.floor_divide(ticks, 86_400_000_000)
        if days.size == 0:
            return np.zeros(days.shape, dtype=np.float64)
        early = days < self._start_day
        if early.any():
            raise SimulationError(f"timestamps: {int(early.sum())} before the calendar start {self._start}, "
                                  f"earliest {_date_of(int(days[early].min()))}")
        self._cover_days(self._start_day, int(days.max()))
        index = np.searchsorted(self._days, days, side="left")
        working = self._days[np.minimum(index, self._days.size - 1)] == days
        of_day_us = (ticks - days * 86_400_000_000).astype(np.float64)
        fraction = (of_day_us / 86_400_000_000.0 - self._day_start_days) * (24.0 / self._hours_per_day)
        fraction = np.where(working, np.clip(fraction, 0.0, 1.0), 0.0)
        return (index - self._k0).astype(np.float64) + fraction
