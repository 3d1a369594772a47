"""A program's hours (as the loaded configuration holds them) in words a resident reads."""

from __future__ import annotations

from typing import Any

DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}


def hours_text(hours: dict[str, Any]) -> list[str]:
    """Runs of days with the same windows: ["Every day, 10:00–22:00"] or ["Monday to Friday, 08:00–17:00",
    "Saturday and Sunday: closed"]."""
    days = list(DAY_NAMES)
    spans = [", ".join(f"{start}–{end}" for start, end in hours.get(day, [])) or "closed" for day in days]
    if len(set(spans)) == 1:
        return [f"Every day, {spans[0]}" if spans[0] != "closed" else "Not running at present"]
    lines, start = [], 0
    for index in range(1, len(days) + 1):
        if index == len(days) or spans[index] != spans[start]:
            first, last = DAY_NAMES[days[start]], DAY_NAMES[days[index - 1]]
            name = first if start == index - 1 else (f"{first} and {last}" if index - start == 2
                                                     else f"{first} to {last}")
            lines.append(f"{name}: closed" if spans[start] == "closed" else f"{name}, {spans[start]}")
            start = index
    return lines
