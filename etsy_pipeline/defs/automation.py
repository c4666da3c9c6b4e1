"""Which schedules and sensors start RUNNING when a fresh instance first loads the code location.

A deployment should work the moment it comes up (pull every 6 hours, analytics nightly and after each pull), so
everything starts RUNNING; an operator can keep some (or `all`) stopped from the start. Dagster uses a default
status only until someone toggles the schedule or sensor in the UI: from then on the instance's stored state wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

ALL = "all"


@dataclass(frozen=True)
class Automation:
    """The names of the schedules and sensors that start stopped (`all` stops every one)."""

    stopped: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, names: str) -> Automation:
        """From a comma-separated setting such as `analytics_nightly,analytics_after_sync` or `all`."""
        return cls(frozenset(name.strip() for name in names.split(",") if name.strip()))

    def runs(self, name: str) -> bool:
        return ALL not in self.stopped and name not in self.stopped

    def schedule(self, name: str) -> dg.DefaultScheduleStatus:
        return dg.DefaultScheduleStatus.RUNNING if self.runs(name) else dg.DefaultScheduleStatus.STOPPED

    def sensor(self, name: str) -> dg.DefaultSensorStatus:
        return dg.DefaultSensorStatus.RUNNING if self.runs(name) else dg.DefaultSensorStatus.STOPPED
