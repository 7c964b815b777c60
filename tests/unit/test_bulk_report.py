"""The bulk engine's report and feeds: pure values, no database."""

from __future__ import annotations

import uuid

from verwijsindex.domain import Problem
from verwijsindex.services.bulk import BulkReport, Feed


def test_reports_of_batches_add_up_and_list_skipped_lines_in_order() -> None:
    total, first, second = BulkReport(), BulkReport(created=2, unchanged=1), BulkReport()
    first.skip(9, [Problem("bsn", "Not a valid BSN (nine digits passing the elfproef).")])
    second.updated, second.closed = 1, 3
    second.skip(4, [Problem("birthDate", "A birth date is required.")])

    total.add(first)
    total.add(second)

    assert total.as_json() == {
        "created": 2,
        "updated": 1,
        "closed": 3,
        "unchanged": 1,
        "skipped": [
            {
                "line": 4,
                "invalidParams": [{"name": "birthDate", "reason": "A birth date is required."}],
            },
            {
                "line": 9,
                "invalidParams": [
                    {"name": "bsn", "reason": "Not a valid BSN (nine digits passing the elfproef)."}
                ],
            },
        ],
    }


def test_an_import_and_a_sync_name_the_professional_as_their_input_does() -> None:
    organisation = uuid.uuid4()
    imported, synced = Feed(organisation), Feed(organisation, uuid.uuid4())

    assert (imported.kind, imported.professional_field) == ("import", "professional")
    assert (synced.kind, synced.professional_field) == ("sync", "professionalId")
