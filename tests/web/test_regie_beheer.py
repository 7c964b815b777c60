"""The beheerder shows and edits a regievoerder's gemeenten (by name or CBS code) on the
person's page; without the role there are none, and dropping the role drops them."""

from __future__ import annotations

from tests.web.conftest import Browser, Login
from tests.web.test_beheer_pages import assert_error_next_to, submit, text
from verwijsindex.services import Core


def test_a_beheerder_sets_a_regievoerders_gemeenten_by_name(login: Login, core: Core) -> None:
    bea = login("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",))
    rita = login(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )
    path = f"/beheer/professionals/{rita.professional_id}"
    page = text(bea.get(path))
    assert 'value="Ede"' in page

    answer = submit(bea, f"{path}/gemeenten", {"gemeenten": "wageningen, GM0228; Renkum"})
    assert answer.status_code == 303
    page = text(bea.follow(answer))
    assert "De gemeenten van de regievoerder zijn opgeslagen." in page
    assert 'value="Ede, Renkum, Wageningen"' in page
    with core.transaction(write=False) as tx:
        assert tx.regie.gemeenten_of(rita.professional_id) == {"GM0228", "GM0274", "GM0289"}

    wrong = submit(bea, f"{path}/gemeenten", {"gemeenten": "Ede, Atlantis"})
    assert wrong.status_code == 400
    assert_error_next_to(text(wrong), "gemeenten", "Onbekende gemeente: Atlantis")
    assert 'value="Ede, Atlantis"' in text(wrong)  # what was typed, to correct

    cleared = submit(bea, f"{path}/gemeenten", {"gemeenten": ""})
    assert cleared.status_code == 303
    with core.transaction(write=False) as tx:
        assert tx.regie.gemeenten_of(rita.professional_id) == frozenset()


def test_only_a_regievoerder_has_gemeenten_and_dropping_the_role_drops_them(
    login: Login, core: Core
) -> None:
    bea = login("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",))
    anna: Browser = login("Anna de Vries")
    anna_path = f"/beheer/professionals/{anna.professional_id}"
    assert "Gemeenten van de regievoerder" not in text(bea.get(anna_path))
    refused = submit(bea, f"{anna_path}/gemeenten", {"gemeenten": "Ede"})
    assert refused.status_code == 400
    assert_error_next_to(text(refused), "gemeenten", "Alleen een regievoerder")

    rita = login(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )
    path = f"/beheer/professionals/{rita.professional_id}"
    assert submit(bea, f"{path}/rollen", {"roles": ["professional"]}).status_code == 303
    assert submit(bea, f"{path}/rollen", {"roles": ["regievoerder"]}).status_code == 303
    with core.transaction(write=False) as tx:
        assert tx.regie.gemeenten_of(rita.professional_id) == frozenset()
    # And nobody but a beheerder sets them.
    assert submit(rita, f"{path}/gemeenten", {"gemeenten": "Ede"}).status_code == 403
