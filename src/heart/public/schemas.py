"""The public forms as they are checked: each field's rule, and a message a resident can act on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_CHARS = re.compile(r"^[0-9+()\-. ]{7,32}$")
MAX_MESSAGE = 2000


@dataclass
class Checked:
    """A form's cleaned values and, per field, what is wrong with it (empty when it may be saved)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(form.get(name, "").split()) if name != "message" else form.get(name, "").strip()


def _contact(form: Mapping[str, str], checked: Checked) -> None:
    name, email, phone = _text(form, "name"), _text(form, "email"), _text(form, "phone")
    checked.values.update(name=name, email=email, phone=phone, message=_text(form, "message"))
    if not name:
        checked.errors["name"] = "Please tell us your name."
    elif len(name) > 120:
        checked.errors["name"] = "Please shorten your name to 120 characters."
    if not email:
        checked.errors["email"] = "Please give an e-mail address we can answer."
    elif len(email) > 254 or not EMAIL.match(email):
        checked.errors["email"] = "This does not look like an e-mail address (like name@example.org)."
    digits = sum(c.isdigit() for c in phone)
    if phone and (not PHONE_CHARS.match(phone) or not 7 <= digits <= 15):
        checked.errors["phone"] = "A phone number has 7 to 15 digits (spaces, dashes and brackets are fine)."
    if len(checked.values["message"]) > MAX_MESSAGE:
        checked.errors["message"] = f"Please keep the message under {MAX_MESSAGE} characters."


def check_event_request(form: Mapping[str, str], *, today: date) -> Checked:
    """A request for the department at an event: contact, the date (from tomorrow, within two years), the place,
    and optionally the organization, the expected audience and a message."""
    checked = Checked()
    _contact(form, checked)
    organization, place = _text(form, "organization"), _text(form, "place")
    day, audience = _text(form, "event_date"), _text(form, "audience")
    checked.values.update(organization=organization, place=place, event_date=day, audience=audience)
    if len(organization) > 160:
        checked.errors["organization"] = "Please shorten the organization's name to 160 characters."
    if not place:
        checked.errors["place"] = "Please tell us where the event is."
    elif len(place) > 200:
        checked.errors["place"] = "Please shorten the place to 200 characters."
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        when = None
        checked.errors["event_date"] = "Please give the date as YYYY-MM-DD (for example 2027-05-14)."
    if when is None and "event_date" not in checked.errors:
        checked.errors["event_date"] = "Please tell us the date of the event."
    elif when is not None and when <= today:
        checked.errors["event_date"] = "The event must be after today; we need time to plan."
    elif when is not None and when > today + timedelta(days=730):
        checked.errors["event_date"] = "We schedule up to two years ahead; please pick an earlier date."
    if audience and (not audience.isdigit() or not 1 <= int(audience) <= 100_000):
        checked.errors["audience"] = "The expected audience is a whole number of people, from 1 to 100,000."
    return checked


def check_signup(form: Mapping[str, str], interests: list[str], *, known: Mapping[str, str]) -> Checked:
    """A sign-up to the volunteer interest list: contact and at least one of the city's interests."""
    checked = Checked()
    _contact(form, checked)
    chosen = [key for key in interests if key in known]
    checked.values["interests"] = ",".join(dict.fromkeys(chosen))
    if not chosen:
        checked.errors["interests"] = "Please choose at least one way you would like to help."
    elif len(chosen) != len(interests):
        checked.errors["interests"] = "Please choose only from the listed ways to help."
    return checked
