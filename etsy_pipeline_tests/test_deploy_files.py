"""Docker cannot run here, so check what can be checked: the files parse and agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from etsy_pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_compose_defines_the_stack_from_one_image() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "code", "webserver", "daemon", "etsy-emulator"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("code", "webserver", "daemon", "etsy-emulator", "migrate"):
        assert services[name]["image"] == "etsy-pipeline:latest"
        assert services[name]["build"] == "."
    for mount in services["postgres"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


def test_dockerfile_copies_files_that_exist() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_workspace_points_at_the_code_location() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert server["host"] == "code"
    assert str(server["port"]) in compose["services"]["code"]["command"]


def test_env_example_lists_every_setting() -> None:
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert _setting_names() <= listed, _setting_names() - listed


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _setting_names() if f"`{name}`" not in readme}
    assert not missing
