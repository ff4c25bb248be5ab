"""Interval math: grids, cron, DST gaps and folds, due sets, interval variables."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from datamake.errors import UsageError
from datamake.schedule.intervals import Schedule, parse_time

NY = "America/New_York"


def hours(interval) -> float:
    return (interval.end - interval.start).total_seconds() / 3600


def span(schedule: Schedule, first: str, last: str):
    return schedule.between(parse_time(first, schedule.tz), parse_time(last, schedule.tz))


def test_daily_local_day_is_23_hours_at_spring_forward_and_25_at_fall_back():
    s = Schedule("daily", NY)
    assert [(i.key, hours(i)) for i in span(s, "2026-03-07", "2026-03-09")] == [
        ("2026-03-07", 24), ("2026-03-08", 23), ("2026-03-09", 24)]
    assert [(i.key, hours(i)) for i in span(s, "2026-10-31", "2026-11-02")] == [
        ("2026-10-31", 24), ("2026-11-01", 25), ("2026-11-02", 24)]


def test_daily_boundaries_are_local_midnight_in_utc():
    i = Schedule("@daily", NY).containing(parse_time("2026-11-23T12:00:00Z", Schedule("daily").tz))
    assert i.start == datetime(2026, 11, 23, 5, tzinfo=timezone.utc)
    assert i.end == datetime(2026, 11, 24, 5, tzinfo=timezone.utc)


def test_hourly_follows_elapsed_hours_across_dst():
    s = Schedule("hourly", NY)
    spring = span(s, "2026-03-08T00:00", "2026-03-08T04:00")
    assert [i.key for i in spring] == ["2026-03-08T00:00-05:00", "2026-03-08T01:00-05:00",
                                       "2026-03-08T03:00-04:00", "2026-03-08T04:00-04:00"]
    fall = span(s, "2026-11-01T00:00", "2026-11-01T02:00")
    assert [i.key for i in fall] == ["2026-11-01T00:00-04:00", "2026-11-01T01:00-04:00",
                                     "2026-11-01T01:00-05:00", "2026-11-01T02:00-05:00"]
    assert all(hours(i) == 1 for i in spring + fall)
    # Two intervals share DATE and HOUR at the fall-back hour; INTERVAL_START tells them apart.
    a, b = fall[1].variables(), fall[2].variables()
    assert (a["DATE"], a["HOUR"]) == (b["DATE"], b["HOUR"]) == ("2026-11-01", "01")
    assert a["INTERVAL_START"] != b["INTERVAL_START"]
    assert len(span(s, "2026-11-01T00:00", "2026-11-01T23:59")) == 25


def test_cron_time_in_the_spring_gap_runs_once_at_the_end_of_the_gap():
    s = Schedule("30 2 * * *", NY)
    got = span(s, "2026-03-07T03:00", "2026-03-09T03:00")
    assert [i.local_start.isoformat() for i in got] == [
        "2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    assert [hours(i) for i in got] == [23.5, 23.5, 24]


def test_cron_time_in_the_repeated_hour_runs_once_at_its_first_occurrence():
    s = Schedule("30 1 * * *", NY)
    got = span(s, "2026-11-01T02:00", "2026-11-02T02:00")
    assert [i.local_start.isoformat() for i in got] == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    assert hours(got[0]) == 25
    hourly_cron = span(Schedule("0 * * * *", NY), "2026-11-01T00:30", "2026-11-01T03:30")
    assert [hours(i) for i in hourly_cron] == [1, 2, 1, 1]


def test_several_cron_ticks_in_one_gap_are_deduplicated():
    s = Schedule("0,30 2 * * *", NY)
    got = span(s, "2026-03-08T00:00", "2026-03-09T00:00")
    assert [i.local_start.isoformat() for i in got] == ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00"]
    assert len({i.key for i in span(s, "2026-03-01", "2026-03-31")}) == len(span(s, "2026-03-01", "2026-03-31"))


def test_weekly_starts_monday_and_monthly_handles_year_end_and_short_months():
    s = Schedule("weekly", NY)
    weekly = s.containing(parse_time("2026-11-01T12:00", s.tz))
    assert weekly.key == "2026-10-26" and hours(weekly) == 7 * 24 + 1
    monthly = span(Schedule("monthly"), "2026-12-15", "2027-03-01")
    assert [i.key for i in monthly] == ["2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01"]
    assert hours(monthly[2]) == 28 * 24
    ny = Schedule("@monthly", NY)
    assert ny.containing(parse_time("2026-03-31T23:00", ny.tz)).key == "2026-03-01"


def test_due_needs_the_end_to_have_passed():
    s = Schedule("daily")
    now = parse_time("2026-11-24T10:00:00Z", s.tz)
    due = s.due(now, parse_time("2026-11-20", s.tz))
    assert [i.key for i in due] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert s.latest_due(now).key == "2026-11-23"
    assert s.due(parse_time("2026-11-24T00:00:00Z", s.tz), parse_time("2026-11-23", s.tz))[-1].key == "2026-11-23"


def test_interval_variables_carry_offsets():
    s = Schedule("daily", NY)
    i = s.containing(parse_time("2026-11-23T12:00", s.tz))
    assert (i.variables()["DATE-1"], i.variables()["INTERVAL_START-7"]) == ("2026-11-22", "2026-11-16T00:00:00-05:00")
    assert i.own_variables() == {
        "DATE": "2026-11-23", "DATE_NODASH": "20261123", "HOUR": "00", "MINUTE": "00",
        "INTERVAL_START": "2026-11-23T00:00:00-05:00", "INTERVAL_END": "2026-11-24T00:00:00-05:00"}


def test_presets_and_cron_agree_where_they_should():
    for preset, cron in (("@daily", "0 0 * * *"), ("monthly", "0 0 1 * *"), ("@hourly", "0 * * * *")):
        a, b = Schedule(preset), Schedule(cron)
        t0, t1 = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)
        assert [i.start for i in a.between(t0, t1)] == [i.start for i in b.between(t0, t1)]


@pytest.mark.parametrize("spec", ["fortnightly", "61 * * * *", "* * *", "@reboot"])
def test_bad_specs_are_usage_errors(spec):
    with pytest.raises(UsageError, match="bad schedule"):
        Schedule(spec)


def test_bad_zone_and_bad_time_are_usage_errors():
    with pytest.raises(UsageError, match="unknown time zone: Mars/Olympus"):
        Schedule("daily", "Mars/Olympus")
    with pytest.raises(UsageError, match="not a date or ISO time"):
        parse_time("yesterday", Schedule("daily").tz)


def test_floor_and_next_are_consistent_over_a_dst_year():
    for spec in ("daily", "hourly", "weekly", "monthly", "15 2 * * *", "45 1 * * 0"):
        s = Schedule(spec, NY)
        t = datetime(2026, 1, 1, tzinfo=timezone.utc)
        while t < datetime(2027, 1, 1, tzinfo=timezone.utc):
            start = s.floor(t)
            assert start <= t < s.next(t) == s.next(start), (spec, t)
            t += timedelta(hours=7, minutes=13)
