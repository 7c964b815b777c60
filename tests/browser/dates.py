"""Filling the three-field date (dag, maand, jaar) as a person would."""

from __future__ import annotations

from playwright.sync_api import Page


def fill_date(page: Page, legend: str, iso: str) -> None:
    """`iso` is `YYYY-MM-DD`; typed into the group named `legend` in Dutch order."""
    year, month, day = iso.split("-")
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Dag").fill(day)
    group.get_by_label("Maand").fill(month)
    group.get_by_label("Jaar").fill(year)
