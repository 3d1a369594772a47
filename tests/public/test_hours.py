"""A program's hours in words, from the configuration's shape."""

from heart.public.hours import hours_text

WEEKDAYS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_every_day_the_same() -> None:
    assert hours_text({day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}) == [
        "Every day, 10:00–22:00"]


def test_weekdays_and_a_closed_weekend() -> None:
    assert hours_text(WEEKDAYS) == ["Monday to Friday, 08:00–17:00", "Saturday and Sunday: closed"]


def test_a_day_on_its_own_and_two_windows() -> None:
    hours = {**WEEKDAYS, "sat": [["09:00", "12:00"], ["13:00", "15:00"]]}
    assert hours_text(hours) == ["Monday to Friday, 08:00–17:00", "Saturday, 09:00–12:00, 13:00–15:00",
                                 "Sunday: closed"]
