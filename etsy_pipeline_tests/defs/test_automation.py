"""A fresh deployment works by itself: every schedule and sensor is on in the UI until an operator stops it."""

from __future__ import annotations

from etsy_pipeline.definitions import build_defs
from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.defs.cockpit import cockpit

PRODUCT = {"pull_sync_every_6_hours", "analytics_nightly", "analytics_after_sync", "etsy_shops_sensor"}

STATES = """
query States($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) { ... on Schedules { results { name scheduleState { status } } } }
  sensorsOrError(repositorySelector: $selector) { ... on Sensors { results { name sensorState { status } } } }
}"""


def test_a_fresh_instance_shows_every_schedule_and_sensor_running() -> None:
    with cockpit() as ui:
        answer = ui.graphql(
            STATES, selector={"repositoryLocationName": "etsy_pipeline", "repositoryName": "__repository__"}
        )
    states = {s["name"]: s["scheduleState"]["status"] for s in answer["schedulesOrError"]["results"]}
    states |= {s["name"]: s["sensorState"]["status"] for s in answer["sensorsOrError"]["results"]}
    assert set(states) >= PRODUCT
    assert states == dict.fromkeys(states, "RUNNING")


def _statuses(automation: Automation) -> dict[str, str]:
    repository = build_defs(get_settings(), automation).get_repository_def()
    found = {s.name: s.default_status.value for s in repository.schedule_defs}
    return found | {s.name: s.default_status.value for s in repository.sensor_defs}


def test_a_deployment_can_keep_some_or_all_stopped() -> None:
    some = _statuses(Automation.parse(" analytics_nightly,etsy_shops_sensor ,"))
    assert {name for name, status in some.items() if status == "STOPPED"} == {"analytics_nightly", "etsy_shops_sensor"}
    assert PRODUCT - {"analytics_nightly", "etsy_shops_sensor"} <= {n for n, s in some.items() if s == "RUNNING"}
    everything = _statuses(Automation.parse("all"))
    assert {name: everything[name] for name in PRODUCT} == dict.fromkeys(PRODUCT, "STOPPED")


def test_the_setting_reaches_the_code_location() -> None:
    """AUTOMATION_STOPPED, read once by the composition root, decides what a fresh instance starts."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json\n"
        "from etsy_pipeline.definitions import defs\n"
        "repo = defs.get_repository_def()\n"
        "print(json.dumps({s.name: str(s.default_status) for s in [*repo.schedule_defs, *repo.sensor_defs]}))"
    )
    env = dict(os.environ, AUTOMATION_STOPPED="analytics_nightly")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    statuses = json.loads(out.strip().splitlines()[-1])
    assert statuses.pop("analytics_nightly").endswith("STOPPED")
    assert statuses and all(s.endswith("RUNNING") for s in statuses.values())
