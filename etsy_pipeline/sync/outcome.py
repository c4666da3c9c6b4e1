"""How a sync of one shop ended: one vocabulary for the run record, the shop's status, the CLI and Dagster."""

from __future__ import annotations

from enum import StrEnum


class SyncStatus(StrEnum):
    SUCCEEDED = "succeeded"
    QUOTA_EXHAUSTED = "quota_exhausted"  # stopped cleanly; the next run resumes where this one stopped
    INCOMPLETE = "incomplete"  # ran to the end, but core holds fewer rows than Etsy reports
    SKIPPED = "skipped"  # another run of the same shop was in progress
    NEEDS_REAUTH = "needs_reauth"
    FAILED = "failed"

    @property
    def exit_code(self) -> int:
        """Distinct exit codes so a scheduler can tell "done" from "no progress" (2 is bad input)."""
        return EXIT_CODES[self]

    @property
    def shop_status(self) -> str | None:
        """What `core.shops.sync_status` says afterwards (a skipped run leaves it to the run in progress)."""
        return None if self is SyncStatus.SKIPPED else ("ok" if self is SyncStatus.SUCCEEDED else self.value)


EXIT_CODES = {
    SyncStatus.SUCCEEDED: 0,
    SyncStatus.FAILED: 1,
    SyncStatus.QUOTA_EXHAUSTED: 3,
    SyncStatus.INCOMPLETE: 4,
    SyncStatus.SKIPPED: 5,
    SyncStatus.NEEDS_REAUTH: 6,
}
# When several shops ran, the command exits with the most serious outcome.
SEVERITY = (
    SyncStatus.FAILED,
    SyncStatus.NEEDS_REAUTH,
    SyncStatus.INCOMPLETE,
    SyncStatus.QUOTA_EXHAUSTED,
    SyncStatus.SKIPPED,
    SyncStatus.SUCCEEDED,
)


def exit_code(statuses: list[SyncStatus]) -> int:
    for status in SEVERITY:
        if status in statuses:
            return status.exit_code
    return 0
