"""The cockpit as an operator sees it: a real headless Chromium against `etsy-pipeline dev --emulator`.

The GraphQL tests prove the webserver answers; only a browser proves the page renders our groups and that its
buttons launch a run. Chromium is Debian's (`apt-get install chromium`, which `.ci/run` does when missing),
driven by Playwright's Python package through `executable_path`: Playwright never downloads a browser here.
The flags keep Chromium off the network (this machine has none) and out of any profile but a fresh one.

Set `UI_SCREENSHOT` to a path to keep the picture of the finished run (`docs/ui.png` in the README came from
`UI_SCREENSHOT=docs/ui.png pytest etsy_pipeline_tests/test_browser.py`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import create_engine, text

from etsy_pipeline.emulator.server import free_port
from etsy_pipeline.storage.database import sqlalchemy_url
from etsy_pipeline_tests.test_ui import _dagster_processes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUR_GROUPS = {"etsy_raw", "core", "analytics", "push"}
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

PARTITIONS = """query ($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) {
  ... on AssetNode { partitionKeys } } }"""
RUNS = """query ($partition: String!) { runsOrError(filter: {tags: [{key: "dagster/partition", value: $partition}]}) {
  ... on Runs { results { runId status } } } }"""


@dataclass
class Cockpit:
    url: str
    shop: str  # the Etsy shop id of the demo's seller: the partition key of `etsy_pull`


def _graphql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=10)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()["data"]
    return data


def _wait_for(probe: Any, what: str, seconds: float) -> Any:
    """Poll `probe` until it returns something truthy; a bounded wait for a server, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, TypeError):
            found = probe()
            if found:
                return found
        time.sleep(1)
    raise AssertionError(f"{what} within {seconds:.0f} s")


@pytest.fixture
def cockpit(fresh_database_url: str, tmp_path: Path) -> Iterator[Cockpit]:
    """`etsy-pipeline dev --emulator` on a free port, with a database and DATA_DIR of its own."""
    port = free_port()
    home = str(tmp_path / "data" / "dagster")  # where dev keeps its instance: used to find its processes
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env |= {"DATABASE_URL": fresh_database_url, "DATA_DIR": str(tmp_path / "data")}
    with (tmp_path / "dev.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "etsy_pipeline.cli", "dev", "--emulator", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        engine = create_engine(sqlalchemy_url(fresh_database_url))

        def connected_shop() -> str | None:
            with engine.connect() as conn:
                if conn.execute(text("SELECT to_regclass('core.shops')")).scalar() is None:
                    return None  # not migrated yet
                shop = conn.execute(text("SELECT etsy_shop_id FROM core.shops LIMIT 1")).scalar()
            return str(shop) if shop else None

        try:
            shop = _wait_for(connected_shop, "dev --emulator connected no shop", 90)
            # The shops sensor (running by default) adds the shop's partition on its first tick.
            _wait_for(
                lambda: shop in _graphql(url, PARTITIONS, path=["core", "orders"])["assetNodeOrError"]["partitionKeys"],
                "the UI showed no partition for the connected shop",
                90,
            )
        except AssertionError as failure:
            tail = (tmp_path / "dev.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"{failure}; `etsy-pipeline dev` said:\n{tail}") from None
        finally:
            engine.dispose()
        yield Cockpit(url=url, shop=shop)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=40)
        for pid in [process.pid, *_dagster_processes(home)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _dismiss_welcome(page: Page) -> None:
    """A fresh instance greets the visitor with a newsletter and community dialog that covers the page, and on a
    slow machine it may open after the first page has loaded: whenever it is up before an action, skip it."""
    skip = page.get_by_role("button", name="Skip")
    page.add_locator_handler(skip, lambda locator: locator.click())
    with contextlib.suppress(Exception):
        skip.wait_for(state="visible", timeout=5_000)
        skip.click()


def _expected_groups() -> set[str]:
    from etsy_pipeline.definitions import defs

    return {spec.group_name for spec in defs.resolve_all_asset_specs() if spec.group_name}


def test_an_operator_launches_a_shop_partition_from_the_page(cockpit: Cockpit, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: apt-get install -y chromium (.ci/run does)"
    groups = _expected_groups()
    assert groups >= OUR_GROUPS, groups
    screenshot = tmp_path / "ui.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty profile
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)

            # The global lineage lists every group of the code location.
            page.goto(f"{cockpit.url}/asset-groups")
            _dismiss_welcome(page)
            expect(page.get_by_text("Global asset lineage")).to_be_visible()
            for group in sorted(groups):
                expect(page.get_by_text(group, exact=True).first).to_be_visible()

            # Materialize one shop partition of the pull, as an operator would: from the asset's page.
            page.goto(f"{cockpit.url}/assets/core/orders")
            page.get_by_role("button", name="Materialize").first.click()
            # etsy_pull is one multi-asset: the page says its other assets come along, and the operator agrees.
            page.get_by_role("button", name="Confirm").click()
            page.get_by_text("Select a partition or create one").click()
            page.locator("label").filter(has_text=cockpit.shop).click()
            page.get_by_text("Launch runs to materialize").click()  # closes the partition list
            page.get_by_role("button", name="Launch 1 run").click()

            def finished() -> dict[str, str] | None:
                runs = _graphql(cockpit.url, RUNS, partition=cockpit.shop)["runsOrError"]["results"]
                return runs[0] if runs and runs[0]["status"] in TERMINAL else None

            run = _wait_for(finished, "the launched run did not finish", 180)
            assert run["status"] == "SUCCESS", run

            # The run's page says so too, and the shop's partition of core/orders is now materialized.
            page.goto(f"{cockpit.url}/runs/{run['runId']}")
            expect(page.get_by_text("Success").first).to_be_visible()
            expect(page.get_by_text(f"partition: {cockpit.shop}").first).to_be_visible()
            expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible()
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UI_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["UI_SCREENSHOT"])
