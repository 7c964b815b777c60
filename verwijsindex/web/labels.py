"""Dutch words for the codes the pages show: audit actions, their sources, roles (issue 14
item 8). A privacy officer reads "Signaal afgegeven (via de API)", not `api:signal:create`;
the code stays next to it, small, because it is what the audit warehouse and the CLI use.

Every action code the services record must have a label here:
tests/web/test_labels.py collects them from the source and fails on a missing one.
"""

from __future__ import annotations

from verwijsindex.domain import Role

ROLES_NL = {
    Role.PROFESSIONAL: "Professional",
    Role.BEHEERDER: "Beheerder",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.REGIEVOERDER: "Regievoerder",
    Role.COORDINATOR: "Coördinator",
}

# Where an action came from (audit.RequestContext.source), the first part of a stored code.
# Federation (docs/federation.md, point 5): a participant or signal of another region says
# which region holds it, e.g. "andere regio: regio-b".
OTHER_REGION_NL = "andere regio"


def other_region_nl(region: str) -> str:
    return f"{OTHER_REGION_NL}: {region}"


SOURCES_NL = {
    "api": "via de API",
    "web": "via de website",
    "cli": "via de opdrachtregel",
    "worker": "automatisch",
}

ACTIONS_NL = {
    "audit:search": "Auditlog doorzocht",
    "audit:verify": "Auditlog gecontroleerd",
    "audit:verify-request": "Controle van het auditlog aangevraagd",
    "child:report-death": "Overlijden van een jeugdige verwerkt",
    "client:create": "Koppeling aangemaakt",
    "client:list": "Koppelingen bekeken",
    "client:revoke": "Koppeling ingetrokken",
    "erasure-request:create": "Verwijderverzoek uitgevoerd",
    "event-feed:read": "Wijzigingenfeed gelezen",
    # Federation (docs/federation.md): the other region is named in the record's roles.
    "federation:answer": "Betrokkenen getoond aan een andere regio",
    "federation:ask": "Betrokkenen gevraagd aan een andere regio",
    "federation:publish": "Stand van een jeugdige aan de hub gemeld",
    "invitation:accept": "Uitnodiging geaccepteerd",
    "match:designate-regisseur": "Procesregisseur aangewezen",
    "match:follow-up": "Contact na match gemeld",
    "match:follow-up-undo": "Melding van contact na match ingetrokken",
    "match:list": "Matches bekeken",
    "match:read": "Match bekeken",
    "match:step-down": "Rol van procesregisseur neergelegd",
    "monitoring:check": "Contact na match gecontroleerd (regie)",
    "monitoring:list": "Matches van de gemeente bekeken (regie)",
    "monitoring:read": "Match bekeken (regie)",
    "organisation:create": "Organisatie aangemaakt",
    "organisation:list": "Organisaties bekeken",
    "organisation:set-gemeente": "Standaardgemeente van organisatie gewijzigd",
    "organisation:signal-list": "Signalen van de organisatie bekeken (coördinatie)",
    "organisation:tasks": "Taken van de organisatie bekeken (coördinatie)",
    "professional:create": "Professional aangemaakt",
    "professional:deactivate": "Professional gedeactiveerd",
    "professional:invite": "Professional uitgenodigd",
    "professional:invite-mail": "Uitnodiging gemaild",
    "professional:list": "Professionals bekeken",
    "professional:reactivate": "Professional weer geactiveerd",
    "professional:read-gemeenten": "Gemeenten van een professional bekeken",
    "professional:search": "Professional gezocht op naam of e-mailadres",
    "professional:set-gemeenten": "Gemeenten van een professional gewijzigd",
    "professional:set-roles": "Rollen van een professional gewijzigd",
    "professional:update-contact": "Contactgegevens van een professional gewijzigd",
    "session:login": "Ingelogd",
    "session:login-code": "Code van de tweede stap ingevoerd",
    "session:login-password": "Wachtwoord ingevoerd",
    "session:logout": "Uitgelogd",
    "signal:close": "Signaal ingetrokken",
    "signal:create": "Signaal afgegeven",
    "signal:create-replayed": "Signaal opnieuw aangeboden (al geregistreerd)",
    "signal:delete": "Signaal verwijderd",
    "signal:erase": "Signaal gewist (ten onrechte afgegeven)",
    "signal:expire": "Signaal verlopen",
    "signal:history": "Geschiedenis van een signaal bekeken",
    "signal:labels": "Eigen kenmerken bij matches bekeken",
    "signal:list": "Signalen bekeken",
    "signal:move-notified": "Verhuizing van een jeugdige gemeld",
    "signal:read": "Signaal bekeken",
    "signal:search": "Eigen signalen doorzocht",
    "signal:transfer": "Signaal overgedragen aan een collega",
    "signal:update": "Signaal gewijzigd",
    "statistics:follow-up-read": "Cijfers over contact na match bekeken",
    "statistics:read": "Statistieken bekeken",
    "subject-access:report": "Inzageoverzicht gemaakt",
    "sync-run:apply": "Synchronisatie verwerkt",
    "sync-run:create": "Synchronisatie aangeboden",
    "sync-run:fail": "Synchronisatie mislukt",
    "sync-run:read": "Synchronisatie bekeken",
    "token:issue": "Token uitgegeven",
    "webhook-subscription:create": "Webhook-abonnement aangemaakt",
    "webhook-subscription:delete": "Webhook-abonnement opgezegd",
}


def action_nl(stored: str) -> str:
    """`api:signal:create` -> `Signaal afgegeven (via de API)`; an unknown code as it is."""
    source, _, action = stored.partition(":")
    if action and source in SOURCES_NL:
        label = ACTIONS_NL.get(action)
        return f"{label} ({SOURCES_NL[source]})" if label else stored
    return ACTIONS_NL.get(stored, stored)


def roles_nl(stored: str) -> str:
    """`professional beheerder` (as an audit record keeps them) -> `Professional, Beheerder`."""
    names = []
    for part in stored.replace(",", " ").split():
        try:
            names.append(ROLES_NL[Role(part)])
        except ValueError:
            names.append(part)
    return ", ".join(names)
