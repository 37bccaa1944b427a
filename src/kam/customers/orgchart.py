"""The account's decision makers as an org chart (ECharts tree data)."""

from collections.abc import Iterable
from typing import Any

from kam.customers.models import Account, Attitude, Contact

ATTITUDE_COLOURS: dict[str, str] = {
    Attitude.SUPPORTER: "#38a169",
    Attitude.NEUTRAL: "#a0aec0",
    Attitude.OPPONENT: "#e53e3e",
}


def org_chart_data(account: Account, contacts: Iterable[Contact]) -> dict[str, Any]:
    """A tree rooted at the account: who reports to whom, each node coloured by attitude."""
    people = list(contacts)
    ids = {person.pk for person in people}
    children: dict[int | None, list[Contact]] = {}
    for person in people:
        boss = person.reports_to_id if person.reports_to_id in ids else None
        children.setdefault(boss, []).append(person)

    def node(person: Contact, seen: frozenset[int]) -> dict[str, Any]:
        label = person.name + (f"\n{person.title}" if person.title else "")
        return {
            "name": label,
            "value": person.get_buying_role_display() or "",
            "attitude": person.get_attitude_display(),
            "influence": person.influence,
            "hasLeft": person.has_left,
            "itemStyle": {"color": ATTITUDE_COLOURS.get(person.attitude, "#a0aec0")},
            "children": [
                node(child, seen | {person.pk})
                for child in children.get(person.pk, [])
                if child.pk not in seen
            ],
        }

    return {
        "name": str(account),
        "itemStyle": {"color": "#0b5cad"},
        "children": [node(person, frozenset()) for person in children.get(None, [])],
    }


def org_chart_rows(contacts: Iterable[Contact]) -> list[tuple[Contact, int]]:
    """The same tree flattened as (contact, depth) for the accessible HTML list."""
    people = list(contacts)
    ids = {person.pk for person in people}
    children: dict[int | None, list[Contact]] = {}
    for person in people:
        boss = person.reports_to_id if person.reports_to_id in ids else None
        children.setdefault(boss, []).append(person)
    rows: list[tuple[Contact, int]] = []

    def walk(parent: int | None, depth: int, seen: frozenset[int]) -> None:
        for person in children.get(parent, []):
            if person.pk in seen:
                continue
            rows.append((person, depth))
            walk(person.pk, depth + 1, seen | {person.pk})

    walk(None, 0, frozenset())
    return rows
