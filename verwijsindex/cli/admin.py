"""Administration (beheerder): organisations, professionals, system clients, deaths."""

from __future__ import annotations

import sys

import click

from verwijsindex.cli.base import (
    EXIT_INVALID,
    command_core,
    emit,
    fail,
    main,
    parse_uuid,
    print_table,
)
from verwijsindex.domain import Role, Sector
from verwijsindex.services import admin as admin_service


@main.group()
def admin() -> None:
    """Organisations, professionals and system clients (beheerder)."""


@admin.command("create-organisation")
@click.option("--name", required=True)
@click.option("--sector", required=True, type=click.Choice([s.value for s in Sector]))
@click.option(
    "--default-gemeente",
    help="CBS code (e.g. GM0363) its professionals' signals carry unless they name another.",
)
@click.option(
    "--allow-duplicate",
    is_flag=True,
    help="Create it even if an organisation with this name exists (otherwise: exit 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_organisation(
    name: str, sector: str, default_gemeente: str | None, allow_duplicate: bool, as_json: bool
) -> None:
    """Create an organisation; prints its id. A name already in use is refused unless
    --allow-duplicate."""
    with command_core() as core:
        try:
            organisation = admin_service.create_organisation(
                core,
                name,
                sector,
                default_gemeente=default_gemeente,
                allow_duplicate=allow_duplicate,
            )
        except admin_service.DuplicateOrganisation as duplicate:
            fail(f"{duplicate.detail}; pass --allow-duplicate to create another", EXIT_INVALID)
    emit(
        as_json,
        {
            "id": str(organisation.id),
            "name": organisation.name,
            "sector": sector,
            "defaultGemeente": organisation.default_gemeente,
        },
        lambda: click.echo(str(organisation.id)),
    )


@admin.command("list-organisations")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_organisations(as_json: bool) -> None:
    """List the organisations (id, sector, default gemeente, name), by name."""
    with command_core() as core:
        organisations = admin_service.list_organisations(core)
    items = [
        {
            "id": str(o.id),
            "name": o.name,
            "sector": o.sector.value,
            "defaultGemeente": o.default_gemeente,
        }
        for o in organisations
    ]
    emit(
        as_json,
        {"items": items},
        lambda: print_table(
            ["id", "sector", "gemeente", "name"],
            [[str(o.id), o.sector.value, o.default_gemeente or "-", o.name] for o in organisations],
        ),
    )


@admin.command("list-professionals")
@click.option("--organisation", "organisation_id", help="Only this organisation's (id).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_professionals(organisation_id: str | None, as_json: bool) -> None:
    """List professionals (id, roles, name, e-mail, organisation), by organisation and
    name. Shows contact data, so the listing is audited."""
    organisation = parse_uuid(organisation_id, "--organisation") if organisation_id else None
    with command_core() as core:
        people = admin_service.list_professionals(core, organisation)
    items = [
        {
            "id": str(p.id),
            "name": p.name,
            "email": p.email,
            "phone": p.phone,
            "organisation": {"id": str(p.organisation.id), "name": p.organisation.name},
            "roles": sorted(r.value for r in p.roles),
            "active": p.active,
        }
        for p in people
    ]
    emit(
        as_json,
        {"items": items},
        lambda: print_table(
            ["id", "roles", "active", "name", "email", "organisation"],
            [
                [
                    str(p.id),
                    ",".join(sorted(r.value for r in p.roles)) or "-",
                    "yes" if p.active else "no",
                    p.name,
                    p.email,
                    p.organisation.name,
                ]
                for p in people
            ],
        ),
    )


@admin.command("set-organisation-gemeente")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option("--gemeente", help="CBS code (e.g. GM0363); omit to clear the default.")
def set_organisation_gemeente(organisation_id: str, gemeente: str | None) -> None:
    """Set or clear the default gemeente of an organisation's signals."""
    organisation = parse_uuid(organisation_id, "--organisation")
    with command_core() as core:
        changed = admin_service.set_organisation_gemeente(core, organisation, gemeente)
    click.echo(changed.default_gemeente or "(none)")


@admin.command("create-professional")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles [professional]",
)
@click.option(
    "--gemeente",
    "gemeenten_assigned",
    multiple=True,
    help="A regievoerder's gemeente (CBS code, e.g. GM0935); repeatable; none: the whole index",
)
@click.option("--password-stdin", is_flag=True, help="Read a password for the web UI from stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_professional(
    organisation_id: str,
    name: str,
    email: str,
    phone: str,
    roles: tuple[str, ...],
    gemeenten_assigned: tuple[str, ...],
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Create a professional; prints the id and the TOTP provisioning URI (shown once)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with command_core() as core:
        created = admin_service.create_professional(
            core,
            parse_uuid(organisation_id, "--organisation"),
            name=name,
            email=email,
            phone=phone,
            roles=roles,
            password=password,
            gemeenten_assigned=gemeenten_assigned,
        )
    professional = created.professional

    def plain() -> None:
        click.echo(str(professional.id))
        click.echo(f"TOTP provisioning URI (shown once): {created.totp_uri}")

    emit(
        as_json,
        {
            "id": str(professional.id),
            "organisation": str(professional.organisation.id),
            "roles": sorted(r.value for r in professional.roles),
            "gemeenten": sorted({g.strip().upper() for g in gemeenten_assigned}),
            "totpUri": created.totp_uri,
        },
        plain,
    )


@admin.command("create-client")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_client(organisation_id: str, as_json: bool) -> None:
    """Create a system client; prints client_id and client_secret (the secret only now)."""
    with command_core() as core:
        client = admin_service.create_system_client(
            core, parse_uuid(organisation_id, "--organisation")
        )
    emit(
        as_json,
        {"client_id": str(client.client_id), "client_secret": client.client_secret},
        lambda: click.echo(f"client_id={client.client_id}\nclient_secret={client.client_secret}"),
    )


@admin.command(
    "report-death",
    # Extra arguments are caught below, so a BSN typed there is refused without being echoed.
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.pass_context
@click.option(
    "--bsn-stdin",
    is_flag=True,
    help="Read the child's BSN from stdin (required: never from the command line).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report_death(context: click.Context, bsn_stdin: bool, as_json: bool) -> None:
    """Delete everything about a deceased child at once (beheerder).

    The BSN is read from stdin because arguments end up in shell history and process
    lists. The command line has no login: whoever can run it with the service's keys and
    database acts as beheerder, so keep both as guarded as that role. The audit record
    names no actor and no child, only the ids of the deleted signals.
    """
    from verwijsindex.pseudonym import parse_bsn
    from verwijsindex.services.lifecycle import report_death as delete_child

    if context.args:
        fail("unexpected argument(s): give the BSN on stdin, with --bsn-stdin", EXIT_INVALID)
    if not bsn_stdin:
        fail("give the BSN on stdin, with --bsn-stdin", EXIT_INVALID)
    bsn = parse_bsn(sys.stdin.readline().strip())
    if bsn is None:
        fail("the BSN on stdin is not nine digits passing the elfproef", EXIT_INVALID)
    with command_core() as core:
        deleted = delete_child(core, bsn)
    emit(
        as_json,
        {"deleted": deleted},
        lambda: click.echo(f"deleted {deleted} signal{'' if deleted == 1 else 's'}"),
    )
