"""Docker and Kubernetes cannot run here, so check what can be checked: the files parse, agree with the code
and with each other, and every Dagster instance config they define passes Dagster's own config schemas."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster import DagsterInvalidConfigError
from dagster._config import validate_config
from dagster_docker import DockerRunLauncher
from dagster_k8s import K8sRunLauncher
from packaging.requirements import Requirement
from sqlalchemy.engine import make_url

from etsy_pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("code", "webserver", "daemon", "migrate", "connect", "etsy-emulator")
# The one-run-per-partition limit of dagster.yaml, which every deployment must keep.
PARTITION_LIMIT = [{"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def _setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    block = re.search(r"^ENV (.+)$", text, re.MULTILINE)
    assert block is not None
    return dict(re.findall(r"(\w+)=(\S+)", block.group(1)))


def test_compose_defines_the_stack_from_one_image() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "code", "webserver", "daemon", "etsy-emulator", "connect"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in APP_SERVICES:
        assert services[name]["image"] == "etsy-pipeline:latest"
        assert services[name]["build"] == "."
    for mount in services["postgres"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


def test_compose_publishes_ports_on_loopback_only() -> None:
    """The Dagster UI has no login and PostgreSQL holds every token: nothing listens beyond this machine."""
    published = {name: s.get("ports", []) for name, s in _compose()["services"].items()}
    assert published["webserver"] and published["postgres"]
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_compose_takes_secrets_from_env_and_refuses_to_start_without_them() -> None:
    """`${VAR:?message}` makes compose stop with the message when VAR is unset or empty: no container ever
    generates an encryption key of its own, and no database starts with a password written in this file."""
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    required = re.compile(r"\$\{(TOKEN_ENCRYPTION_KEY|POSTGRES_PASSWORD|REDIS_PASSWORD):\?[^}]+\}")
    for name in APP_SERVICES:
        env = services[name].get("environment", {})
        assert required.fullmatch(env["TOKEN_ENCRYPTION_KEY"]), name
        assert required.search(env["DATABASE_URL"]) and required.search(env["REDIS_URL"]), name
        assert required.fullmatch(env["DAGSTER_PG_PASSWORD"]), name
    assert required.fullmatch(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
    assert required.search(" ".join(services["redis"]["command"]))
    # every use of a secret is the refusing form, never a bare or defaulted one
    for secret in ("TOKEN_ENCRYPTION_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), (secret, uses)
    assert "etsy:etsy@" not in text


def test_code_location_has_a_grpc_healthcheck_the_ui_waits_for() -> None:
    services = _compose()["services"]
    command = services["code"]["command"]
    port = command[command.index("--port") + 1]
    check = services["code"]["healthcheck"]["test"]
    assert check[:4] == ["CMD", "dagster", "api", "grpc-health-check"]
    assert check[check.index("--port") + 1] == port
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy", name


def test_step_logs_live_on_one_volume_for_runs_and_the_ui() -> None:
    """Dagster's default compute log manager writes under DAGSTER_HOME/storage: the process running the steps
    and the webserver serving their logs must see the same directory."""
    compose = _compose()
    storage = f"{_dockerfile_env()['DAGSTER_HOME']}/storage"
    mounts = {name: compose["services"][name]["volumes"] for name in ("code", "webserver", "daemon")}
    sources = {name: {m.split(":")[0] for m in vols if m.split(":")[1] == storage} for name, vols in mounts.items()}
    assert sources["code"] == sources["webserver"] == sources["daemon"] and len(sources["code"]) == 1
    (volume,) = sources["code"]
    assert volume in compose["volumes"]
    # Run containers of the DockerRunLauncher variant mount it by its fixed name, on the compose network.
    launcher = yaml.safe_load((ROOT / "deploy/docker/dagster.yaml").read_text())["run_launcher"]["config"]
    assert f"{compose['volumes'][volume]['name']}:{storage}" in launcher["container_kwargs"]["volumes"]
    assert launcher["network"] == compose["networks"]["default"]["name"]
    assert launcher["image"] == compose["services"]["code"]["image"]


def test_connect_from_docker_shares_the_host_loopback() -> None:
    """The OAuth callback listens on 127.0.0.1 of the waiting process: only host networking lets the browser's
    redirect reach it, and then PostgreSQL and Redis are reached on their loopback ports."""
    connect = _compose()["services"]["connect"]
    assert connect["network_mode"] == "host"
    assert connect["entrypoint"] == ["etsy-pipeline", "connect"]
    assert "@127.0.0.1:" in connect["environment"]["DATABASE_URL"]
    assert "@127.0.0.1:" in connect["environment"]["REDIS_URL"]
    assert connect["profiles"] == ["connect"]  # a one-off command, never started by `up`


def test_dockerfile_copies_files_that_exist() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_image_installs_the_lock_file_which_pins_every_dependency() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for dependency in [*pyproject["project"]["dependencies"], "dagster-docker==0.29.27", "dagster-k8s==0.29.27"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is missing from requirements.lock: run bash deploy/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (dependency, pins[name])
    assert "etsy-pipeline" not in pins  # the package itself is installed from the source


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".etsy-pipeline", ".env", ".git", "__pycache__", ".mypy_cache", ".pytest_cache"} <= ignored
    assert Settings.model_fields["data_dir"].default == Path(".etsy-pipeline")


def test_workspace_points_at_the_code_location() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    compose = _compose()
    assert server["host"] == "code"
    assert str(server["port"]) in compose["services"]["code"]["command"]


def test_env_example_lists_every_setting() -> None:
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert _setting_names() <= listed, _setting_names() - listed


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _setting_names() if f"`{name}`" not in readme}
    assert not missing


# --- Dagster instance configs of the deployments -------------------------------------------------------------


@pytest.fixture
def dagster_pg_env(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's storage settings pointing at an empty database of its own, as in production."""
    url = make_url(fresh_database_url)
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USER", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")


def _instance_limits(instance: dg.DagsterInstance) -> Any:
    queue = instance.get_concurrency_config().run_queue_config
    assert queue is not None
    return queue.tag_concurrency_limits


def test_docker_run_launcher_variant_loads_on_postgres(dagster_pg_env: None, tmp_path: Path) -> None:
    shutil.copy(ROOT / "deploy/docker/dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, DockerRunLauncher)
        assert "TOKEN_ENCRYPTION_KEY" in (launcher.env_vars or []) and "DATABASE_URL" in (launcher.env_vars or [])
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert _instance_limits(instance) == PARTITION_LIMIT
    with _root_instance(tmp_path) as compose_default:
        assert _instance_limits(compose_default) == PARTITION_LIMIT  # the same limit as the default dagster.yaml
    broken = (ROOT / "deploy/docker/dagster.yaml").read_text().replace("container_kwargs:", "container_kwarg:")
    (tmp_path / "dagster.yaml").write_text(broken)
    with pytest.raises(DagsterInvalidConfigError, match="container_kwarg"):  # the launcher's schema is checked
        dg.DagsterInstance.from_config(str(tmp_path)).run_launcher  # noqa: B018


def _root_instance(tmp_path: Path) -> dg.DagsterInstance:
    home = tmp_path / "root"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def _values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((ROOT / "deploy/k8s/values.yaml").read_text())
    return values


def render_helm_instance(values: dict[str, Any]) -> dict[str, Any]:
    """The dagster.yaml that Dagster's chart renders from these values, for the parts they set (after the
    chart's templates/configmap-instance.yaml and helpers/instance/*.tpl): storage, run launcher, run
    coordinator, compute logs, run monitoring and retries, op pools. Helm cannot run here; Dagster's schemas can.
    (The values themselves passed the chart's values.schema.json, checked once outside the suite.)"""
    pg = values["postgresql"]
    postgres_db = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "params": pg.get("postgresqlParams", {}),
        "scheme": pg["postgresqlScheme"],
    }
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher_config: dict[str, Any] = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace", "dagster"),
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": "dagster",
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}],
        "env_secrets": [secret["name"] for secret in k8s.get("envSecrets", [])],
        "volume_mounts": k8s.get("volumeMounts", []),
        "volumes": k8s.get("volumes", []),
        "run_k8s_config": {
            "container_config": k8s["runK8sConfig"]["containerConfig"],
        },
    }
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    queued = coordinator.get("config", {}).get("queuedRunCoordinator", {})
    runs, pools = values["concurrency"]["runs"], values["concurrency"]["pools"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    custom_logs = values["computeLogManager"]["config"]["customComputeLogManager"]
    return {
        "storage": {"postgres": {"postgres_db": postgres_db}},
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher_config},
        "run_coordinator": {
            "module": "dagster._core.run_coordinator",
            "class": coordinator["type"],
            # With `concurrency` enabled the chart leaves the coordinator's own limits out unless they are set
            # (and Dagster refuses both): render what is set, for the instance to reject.
            "config": {
                key: queued[name]
                for key, name in (
                    ("max_concurrent_runs", "maxConcurrentRuns"),
                    ("tag_concurrency_limits", "tagConcurrencyLimits"),
                )
                if queued.get(name)
            },
        },
        "compute_logs": {
            "module": custom_logs["module"],
            "class": custom_logs["class"],
            "config": custom_logs["config"],
        },
        "run_monitoring": {
            "enabled": monitoring["enabled"],
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
        },
        "run_retries": {"enabled": True, "max_retries": values["dagsterDaemon"]["runRetries"]["maxRetries"]},
        "concurrency": {
            "runs": {
                "max_concurrent_runs": runs["maxConcurrentRuns"],
                "tag_concurrency_limits": runs["tagConcurrencyLimits"],
            },
            "pools": {"default_limit": pools["defaultLimit"], "granularity": pools["granularity"]},
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def test_helm_values_render_an_instance_dagster_accepts(dagster_pg_env: None, tmp_path: Path) -> None:
    values = _values()
    assert values["concurrency"]["enabled"] is True  # else the chart renders no `concurrency` block
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["redis"]["enabled"] is False  # external services
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "etsy_pipeline.definitions"]
    assert {"name": "etsy-pipeline-env"} in deployment["envSecrets"]
    rendered = render_helm_instance(values)

    # The K8sRunLauncher cannot be built outside a cluster (it loads the in-cluster config): check its config
    # against its own schema.
    schema = K8sRunLauncher.config_type()  # type: ignore[no-untyped-call]
    launcher = validate_config(schema, rendered["run_launcher"]["config"])
    assert launcher.success, [error.message for error in launcher.errors or []]
    wrong = {**rendered["run_launcher"]["config"], "env_secret": ["etsy-pipeline-env"]}
    assert not validate_config(schema, wrong).success  # the schema is really checked

    # The rest loads as an instance: PostgreSQL storage, the queue with our per-partition limit, shared step logs.
    instance_config = {key: value for key, value in rendered.items() if key != "run_launcher"}
    instance_config["storage"]["postgres"]["postgres_db"] |= {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "params": {},  # the test database speaks no TLS
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance_config))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.compute_log_manager).__name__ == "LocalComputeLogManager"
        assert instance.run_monitoring_enabled
        assert _instance_limits(instance) == PARTITION_LIMIT  # one run per shop partition, as in dagster.yaml
        with _root_instance(tmp_path) as compose_default:  # the Etsy pool as dagster.yaml sets it
            pools = instance.get_concurrency_config().pool_config
            assert pools.default_pool_limit == compose_default.get_concurrency_config().pool_config.default_pool_limit
    # Run pods and the webserver share the volume the step logs are written to.
    logs_dir = rendered["compute_logs"]["config"]["base_dir"]
    for mounts in (values["dagsterWebserver"]["volumeMounts"], rendered["run_launcher"]["config"]["volume_mounts"]):
        assert {"name": "compute-logs", "mountPath": logs_dir} in mounts
