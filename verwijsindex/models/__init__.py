"""SQLAlchemy 2 tables: the index itself (`core`) and notifications (`notifications`)."""

from verwijsindex.models.audit import (
    AuditCheckpointRow,
    AuditEventRow,
    AuditHeadRow,
    AuditVerificationRow,
)
from verwijsindex.models.base import PSEUDONYM_LENGTH, Base, UtcDateTime
from verwijsindex.models.core import (
    IdempotencyKeyRow,
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
    SystemClientRow,
)
from verwijsindex.models.federation import (
    FederatedSignalRow,
    FederationAuditRow,
    FederationMemberKeyRow,
    FederationMemberRow,
    FederationPseudonymRow,
    FederationPublishedRow,
    FederationSeenTokenRow,
    FederationStateRow,
    HubHoldingParentRow,
    HubHoldingRow,
    HubNoticeRow,
    KeyholderKeyRow,
    KeyholderUsageRow,
)
from verwijsindex.models.feed import FeedEventRow
from verwijsindex.models.notifications import (
    FollowUpRow,
    OutboxRow,
    WebhookSubscriptionRow,
)
from verwijsindex.models.regie import MatchCheckRow, ProfessionalGemeenteRow
from verwijsindex.models.statistics import statistics_counts
from verwijsindex.models.sync import SyncRunItemRow, SyncRunRow
from verwijsindex.models.web import InvitationRow, WebSessionRow

__all__ = [
    "PSEUDONYM_LENGTH",
    "AuditCheckpointRow",
    "AuditEventRow",
    "AuditHeadRow",
    "AuditVerificationRow",
    "Base",
    "FederatedSignalRow",
    "FederationAuditRow",
    "FederationMemberKeyRow",
    "FederationMemberRow",
    "FederationPseudonymRow",
    "FederationPublishedRow",
    "FederationSeenTokenRow",
    "FederationStateRow",
    "FeedEventRow",
    "FollowUpRow",
    "HubHoldingParentRow",
    "HubHoldingRow",
    "HubNoticeRow",
    "IdempotencyKeyRow",
    "InvitationRow",
    "KeyholderKeyRow",
    "KeyholderUsageRow",
    "MatchCheckRow",
    "MatchRow",
    "MatchSignalRow",
    "OrganisationRow",
    "OutboxRow",
    "ProfessionalGemeenteRow",
    "ProfessionalRow",
    "SignalParentRow",
    "SignalRow",
    "SyncRunItemRow",
    "SyncRunRow",
    "SystemClientRow",
    "UtcDateTime",
    "WebSessionRow",
    "WebhookSubscriptionRow",
    "statistics_counts",
]
