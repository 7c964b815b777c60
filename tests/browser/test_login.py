"""Logging in, in a real browser: password, the TOTP set-up with its QR code at first
login, a code afterwards, logout; the session cookie's flags; lock-out; CSRF rejection."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import People

NewPage = Callable[..., Page]


def test_first_login_sets_up_totp_with_a_qr_code_then_codes_are_asked(
    new_page: NewPage, people: People, screenshot: Callable[[Page, str], None]
) -> None:
    anna = people.create("Anna de Vries")
    page = new_page()

    page.goto("/")
    expect(page).to_have_url("/inloggen?volgende=/")
    screenshot(page, "01-inloggen")
    page.get_by_label("E-mailadres").fill(anna.email)
    page.get_by_label("Wachtwoord").fill(anna.password)
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Tweede stap instellen")).to_be_visible()
    qr = page.get_by_role("img", name="QR-code")
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")  # it renders
    screenshot(page, "02-tweede-stap-instellen")
    page.get_by_text("Kunt u niet scannen?").click()
    anna.secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("Code uit uw authenticator-app").fill(people.code(anna))
    page.get_by_role("button", name="Bevestigen en inloggen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Anna de Vries")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "verwijsindex_sessie"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_text("U bent uitgelogd.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url("/inloggen?volgende=/")

    # The second time: no QR code, a code from the app.
    people.clock.advance(seconds=30)
    page.get_by_label("E-mailadres").fill(anna.email)
    page.get_by_label("Wachtwoord").fill(anna.password)
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Code invoeren")).to_be_visible()
    page.get_by_label("Code uit uw authenticator-app").fill(people.code(anna))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Anna de Vries")


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_replayed(
    new_page: NewPage, people: People
) -> None:
    anna = people.create("Anna de Vries")
    first = new_page()
    people.log_in(first, anna)
    people.clock.advance(seconds=-30)  # back to the step whose code was just used
    page = new_page()
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(anna.email)
    page.get_by_label("Wachtwoord").fill(anna.password)
    page.get_by_role("button", name="Verder").click()

    page.get_by_label("Code uit uw authenticator-app").fill("000000")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_text("Deze code klopt niet")).to_be_visible()
    page.get_by_label("Code uit uw authenticator-app").fill(people.code(anna))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_text("Deze code klopt niet")).to_be_visible()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    new_page: NewPage, people: People
) -> None:
    anna = people.create("Anna de Vries")
    page = new_page()
    page.goto("/inloggen")
    for _ in range(5):
        page.get_by_label("E-mailadres").fill(anna.email)
        page.get_by_label("Wachtwoord").fill("not the password")
        page.get_by_role("button", name="Verder").click()
        expect(page.get_by_text("Deze combinatie klopt niet")).to_be_visible()

    # Locked: the right password gets the same answer as a wrong one (or an unknown
    # address), which mentions both possibilities.
    page.get_by_label("E-mailadres").fill(anna.email)
    page.get_by_label("Wachtwoord").fill(anna.password)
    page.get_by_role("button", name="Verder").click()
    expect(
        page.get_by_text("Deze combinatie klopt niet, of uw account is tijdelijk geblokkeerd")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()

    people.clock.advance(minutes=16)  # the lock runs out
    people.log_in(page, anna)


def test_a_form_without_its_csrf_token_is_refused(new_page: NewPage, people: People) -> None:
    anna = people.create("Anna de Vries")
    page = new_page()
    people.log_in(page, anna)

    page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.value = 'forged')"
    )
    page.get_by_role("button", name="Uitloggen").click()

    expect(page.get_by_role("heading", name="Het formulier is verlopen")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Anna de Vries")  # still in


def test_a_login_form_from_another_site_is_refused(new_page: NewPage, people: People) -> None:
    """Login CSRF: a form posted without this browser's token does not log anyone in."""
    anna = people.create("Anna de Vries")
    page = new_page()
    response = page.request.post(
        "/inloggen", form={"email": anna.email, "password": anna.password, "csrf_token": "x"}
    )
    assert response.status == 400
    assert not [c for c in page.context.cookies() if c["name"] == "verwijsindex_sessie"]


def test_a_session_ends_after_30_idle_minutes_and_after_12_hours_however_busy(
    new_page: NewPage, people: People
) -> None:
    anna = people.create("Anna de Vries")
    page = new_page()
    people.log_in(page, anna)
    people.clock.advance(minutes=29)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Anna de Vries")

    people.clock.advance(minutes=31)
    page.goto("/")
    expect(page).to_have_url("/inloggen?volgende=/")

    people.log_in(page, anna)
    for _ in range(26):  # busy all day, never idle for long
        people.clock.advance(minutes=28)
        page.goto("/")
    expect(page).to_have_url("/inloggen?volgende=/")


def test_a_deactivated_professional_is_logged_out_at_once(
    new_page: NewPage, people: People
) -> None:
    from verwijsindex.services import directory
    from verwijsindex.services.core import Actor

    anna = people.create("Anna de Vries")
    bea = people.create("Bea Beheer", roles=("beheerder",))
    page = new_page()
    people.log_in(page, anna)

    with people.core.transaction(write=False) as tx:
        ids = {p.email: tx.web.login_record_by_email(p.email) for p in (anna, bea)}
        beheerder = tx.people.professional(ids[bea.email].professional_id)  # type: ignore[union-attr]
    assert beheerder is not None
    target = ids[anna.email].professional_id  # type: ignore[union-attr]
    directory.deactivate_professional(people.core, Actor(beheerder), target)

    page.goto("/")
    expect(page).to_have_url("/inloggen?volgende=/")


def test_without_javascript_the_invitation_code_is_pasted_into_the_form(
    browser: Browser, live_url: str, people: People
) -> None:
    """The #-part of the link never reaches the server; without the script that copies it,
    the visible field takes it instead, and the rest of the set-up works as usual."""
    from verwijsindex.services import Actor, invitations

    people.create("Bea Beheer", roles=("beheerder",))
    with people.core.transaction(write=False) as tx:
        bea = tx.web.login_record_by_email("bea.beheer@example.org")
        assert bea is not None
        beheerder = tx.people.professional(bea.professional_id)
    assert beheerder is not None
    chris = people.create("Chris Claassen", organisation="Wijkteam Oost")
    with people.core.transaction(write=False) as tx:
        record = tx.web.login_record_by_email(chris.email)
    assert record is not None
    code = invitations.invite(
        people.core, Actor(beheerder, credential="web"), record.professional_id
    )
    context = browser.new_context(base_url=live_url, java_script_enabled=False, locale="nl-NL")
    page = context.new_page()

    page.goto(f"/uitnodiging#{code}")
    field = page.get_by_label("Code uit uw uitnodigingslink")
    expect(field).to_be_visible()
    expect(field).to_have_value("")
    field.fill(code)
    page.get_by_role("button", name="Verder").click()
    page.get_by_label("Nieuw wachtwoord").fill(chris.password)
    page.get_by_label("Herhaal het wachtwoord").fill(chris.password)
    page.get_by_role("button", name="Wachtwoord instellen").click()

    expect(page.get_by_role("heading", name="Tweede stap instellen")).to_be_visible()
    context.close()
