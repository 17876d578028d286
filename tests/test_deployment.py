"""The deployment files agree with the code: docker-compose.yml, Dockerfile, .env files,
the proxy (deploy/nginx/) and clamd (deploy/clamav/).

No Docker engine runs where the tests run, so the files are read, not started: every
command they name must exist in the project, and ``check --deploy`` must pass with
production-like values. nginx and clamd run for real here, with the committed files.
"""

import ast
import contextlib
import hashlib
import importlib
import io
import ipaddress
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pikepdf
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from clamav_client import clamd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import get_commands
from django.core.validators import MaxValueValidator
from django.urls import resolve

from aap.forms import TEMPLATE_MAX_BYTES
from aap.models import RequiredDocument
from conventions.services import REPORT_MAX_BYTES, SCAN_MAX_BYTES
from core import antivirus
from demo import modeles
from tests import environment, hostile
from tests.nginx import find_nginx, free_port, nginx_proxy
from tests.processes import stop

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
DOCKERFILE = BASE_DIR / "Dockerfile"
SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
ENV_EXAMPLE = BASE_DIR / ".env.example"
ENV_DOCKER = BASE_DIR / ".env.docker"

NGINX_DIR = BASE_DIR / "deploy" / "nginx"
CLAMD_CONF = BASE_DIR / "deploy" / "clamav" / "clamd.conf"
GUNICORN_CONF = BASE_DIR / "gunicorn.conf.py"

REQUIRED_SERVICES = {"web", "worker", "beat", "db", "redis", "mail", "nginx", "clamd"}
MIB = 1024 * 1024
# Room for the multipart envelope and the CSRF field around the largest file.
ENVELOPE = MIB
# django-environ's readers: env("X"), env.bool("X"), env.db("X")…
ENV_METHODS = {
    "str", "bool", "int", "float", "list", "tuple", "dict", "json", "url", "path",
    "db", "db_url", "cache", "cache_url", "email", "email_url", "search_url",
}  # fmt: skip


# --- Helpers -----------------------------------------------------------------------------


def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services():
    return compose()["services"]


def command_text(service) -> str:
    """The service's command as one string (a list is joined, ``sh -c`` included)."""
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(str(part) for part in command)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: line without '=': {line!r}"
        values[key.strip()] = value.strip()
    return values


def env_files_of(service) -> list[str]:
    env_file = service.get("env_file", [])
    entries = [env_file] if isinstance(env_file, str | dict) else env_file
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def one_shot_services() -> set[str]:
    """Services others wait for with ``service_completed_successfully`` (``migrate``)."""
    names = set()
    for service in services().values():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, dict):
            names |= {
                name
                for name, rule in depends_on.items()
                if rule.get("condition") == "service_completed_successfully"
            }
    return names


def volume_mounts(service) -> list[tuple[str, str]]:
    """``(source, target)`` of each volume of a service, short or long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append((volume.get("source", ""), volume["target"]))
        else:
            source, _, rest = volume.partition(":")
            mounts.append((source, rest.split(":")[0]))
    return mounts


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def defines_name(path: Path, name: str) -> bool:
    """Whether the module at ``path`` binds ``name`` at top level (assignment or def)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                return True
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return True
    return False


def variables_read_by_settings() -> set[str]:
    """Every environment variable config/settings.py reads, found in its syntax tree."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            reads_env = func.id == "env"
        elif isinstance(func, ast.Attribute):
            owner = ast.unparse(func.value)
            reads_env = (owner == "env" and func.attr in ENV_METHODS) or (
                (owner, func.attr) in {("os", "getenv"), ("os.environ", "get")}
            )
        else:
            reads_env = False
        if not reads_env:
            continue
        first = node.args[0] if node.args else None
        assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
            f"settings.py line {node.lineno}: the variable name must be a literal string"
        )
        names.add(first.value)
    return names


def variables_listed_in_example() -> list[str]:
    """``KEY=value`` lines of .env.example, commented out or not."""
    return re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)


def largest_upload() -> int:
    """The largest file, in bytes, that any upload of the platform accepts."""
    (piece_limit,) = [
        validator.limit_value
        for validator in RequiredDocument._meta.get_field("max_size_mb").validators
        if isinstance(validator, MaxValueValidator)
    ]
    return max(piece_limit * MIB, TEMPLATE_MAX_BYTES, SCAN_MAX_BYTES, REPORT_MAX_BYTES)


def nginx_directives(*names: str) -> dict[str, list[str]]:
    """The values of each ``directive value;`` line of the named deploy/nginx/ files."""
    found = {}
    for name in names:
        text = re.sub(r"#.*", "", (NGINX_DIR / name).read_text())
        for directive, value in re.findall(r"^\s*(\w+)\s+([^;{}]*);", text, flags=re.MULTILINE):
            found.setdefault(directive, []).append(value.strip())
    return found


def nginx_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[unit.lower()]


def nginx_seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()
    return int(number) * (60 if unit == "m" else 1)


def clamd_options() -> dict[str, str]:
    options = {}
    for line in CLAMD_CONF.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition(" ")
            assert name not in options, f"clamd.conf: {name} twice"
            options[name] = value.strip()
    return options


def clamd_bytes(value: str) -> int:
    # clamd's sizes: bytes, or K and M for 1024 and 1024 × 1024 (clamd.conf(5)).
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": MIB}[unit.lower()]


def gunicorn_default(name: str) -> str:
    match = re.search(rf'"GUNICORN_{name}", "([^"]+)"', GUNICORN_CONF.read_text())
    assert match, f"gunicorn.conf.py: no default for GUNICORN_{name}"
    return match.group(1)


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_declares_the_platform_services():
    assert set(services()) >= REQUIRED_SERVICES


def test_gunicorn_serves_a_wsgi_module_that_defines_application():
    commands = [command_text(s) for s in services().values() if "gunicorn" in command_text(s)]
    assert commands, "no service runs gunicorn"
    for command in commands:
        match = re.search(r"gunicorn\s+([\w.]+)(?::(\w+))?", command)
        assert match, command
        module, attribute = match.group(1), match.group(2) or "application"
        path = BASE_DIR / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{command}: {path} does not exist"
        assert defines_name(path, attribute), f"{path} does not define {attribute}"
    assert "config.wsgi" in command_text(services()["web"])
    # The port the health check and the proxy reach: gunicorn.conf.py's default bind.
    assert re.search(
        r'"GUNICORN_BIND", "0\.0\.0\.0:8000"', (BASE_DIR / "gunicorn.conf.py").read_text()
    )


def test_celery_commands_name_the_project_app():
    celery_services = {
        name: command_text(s) for name, s in services().items() if "celery" in command_text(s)
    }
    assert {"worker", "beat"} <= set(celery_services)
    for name, command in celery_services.items():
        match = re.search(r"celery\s+(?:-A|--app)[\s=]+(\S+)\s+(\w+)", command)
        assert match, f"{name}: {command}"
        app_name, subcommand = match.groups()
        assert subcommand in {"worker", "beat", "inspect", "flower"}, command
        module_path = BASE_DIR / app_name.replace(".", "/") / "celery.py"
        assert defines_name(module_path, "app"), f"{module_path} does not define app"
        # What `celery -A config` itself loads.
        assert isinstance(find_app(app_name), Celery)


def test_exactly_one_beat():
    schedulers = [
        name
        for name, service in services().items()
        if re.search(r"celery\b.*\bbeat\b", command_text(service))
        or re.search(r"\s(-B|--beat)\b", command_text(service))
    ]
    assert schedulers == ["beat"]
    assert services()["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_manage_py_subcommands_exist():
    known = get_commands()
    used = [
        subcommand
        for service in services().values()
        for subcommand in re.findall(r"manage\.py\s+([\w-]+)", command_text(service))
    ]
    assert "migrate" in used, "nothing runs the migrations"
    assert [name for name in used if name not in known] == []


def test_migrations_run_once_before_the_application_starts():
    migrate_services = [
        name
        for name, service in services().items()
        if re.search(r"manage\.py\s+migrate\b", command_text(service))
    ]
    assert len(migrate_services) == 1
    runner = migrate_services[0]
    if runner != "web":  # a one-shot step: web, worker and beat wait for its success
        for name in ("web", "worker", "beat"):
            rule = services()[name]["depends_on"][runner]
            assert rule["condition"] == "service_completed_successfully", name
        assert services()[runner].get("restart", "no") == "no"


def test_every_long_running_service_has_a_healthcheck():
    exempt = {"mail"} | one_shot_services()
    missing = [
        name
        for name, service in services().items()
        if name not in exempt
        and (
            not service.get("healthcheck", {}).get("test") or service["healthcheck"].get("disable")
        )
    ]
    assert missing == []


def test_healthchecks_use_the_expected_probes():
    checks = {
        name: str(s["healthcheck"]["test"]) for name, s in services().items() if "healthcheck" in s
    }
    assert "pg_isready" in checks["db"]
    assert "redis-cli" in checks["redis"] and "ping" in checks["redis"]
    assert "urllib" in checks["web"] and "/healthz" in checks["web"]
    assert resolve("/healthz").url_name == "healthz"
    assert "inspect" in checks["worker"] and "ping" in checks["worker"]


def test_healthcheck_python_snippets_compile_and_import_what_exists():
    # A renamed function would turn a health check red for good, silently.
    for name, service in services().items():
        test = service.get("healthcheck", {}).get("test", [])
        if not (isinstance(test, list) and "python" in test and "-c" in test):
            continue
        tree = ast.parse(test[test.index("-c") + 1])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{name}: {node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)


def test_dependencies_wait_for_health():
    all_services = services()
    for name, service in all_services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends_on.items():
            assert target in all_services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if "healthcheck" in all_services[target]:
                assert condition == "service_healthy", f"{name} → {target}: {condition}"
    for name in ("web", "worker", "beat"):
        for target in ("db", "redis"):
            assert all_services[name]["depends_on"][target]["condition"] == "service_healthy"


def test_env_files_exist():
    files = [path for service in services().values() for path in env_files_of(service)]
    assert ".env.docker" in files
    assert [path for path in files if not (BASE_DIR / path).is_file()] == []
    for name in ("web", "worker", "beat"):
        assert ".env.docker" in env_files_of(services()[name])


def test_named_volumes_are_declared():
    declared = set(compose().get("volumes") or {})
    used = {
        source
        for service in services().values()
        for source, _target in volume_mounts(service)
        if is_named_volume(source)
    }
    assert used, "no named volume"
    assert used - declared == set()


def test_web_and_worker_share_the_private_uploads_and_web_has_the_static_files():
    env = read_env_file(ENV_DOCKER)
    private_root, static_root = env["PRIVATE_MEDIA_ROOT"], env["STATIC_ROOT"]
    assert private_root.startswith(env["VAR_DIR"])

    def volume_at(service_name, target):
        mounts = {t: s for s, t in volume_mounts(services()[service_name])}
        return mounts.get(target)

    web_private = volume_at("web", private_root)
    assert web_private and is_named_volume(web_private)
    assert volume_at("worker", private_root) == web_private
    assert is_named_volume(volume_at("web", static_root) or "")
    db_sources = [s for s, _t in volume_mounts(services()["db"])]
    assert any(is_named_volume(source) for source in db_sources), "postgres data is not kept"


def test_env_docker_points_to_the_compose_services():
    env = read_env_file(ENV_DOCKER)
    assert env["DEBUG"] == "false"
    assert env["SECURE_SSL_REDIRECT"] == "false" and env["SECURE_COOKIES"] == "false"
    assert env["EMAIL_URL"] == "smtp://mail:1025"
    assert len(env["SECRET_KEY"]) >= 50 and len(set(env["SECRET_KEY"])) >= 5
    assert "localhost" in env["ALLOWED_HOSTS"].split(",")  # the web health check's host
    assert env["SITE_URL"].startswith("http://")

    database = urlparse(env["DATABASE_URL"])
    db_env = services()["db"]["environment"]
    assert database.hostname == "db" and database.port in (None, 5432)
    assert database.username == db_env["POSTGRES_USER"]
    assert database.password == db_env["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == db_env["POSTGRES_DB"]
    assert urlparse(env["CELERY_BROKER_URL"]).hostname == "redis"
    assert "8025:8025" in [str(port) for port in services()["mail"].get("ports", [])]


def test_env_docker_only_sets_variables_that_settings_reads():
    assert set(read_env_file(ENV_DOCKER)) - variables_read_by_settings() == set()


def test_env_docker_says_production_must_change_the_secret_key():
    text = ENV_DOCKER.read_text()
    assert re.search(r"^#.*PRODUCTION MUST CHANGE SECRET_KEY", text, flags=re.MULTILINE)


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_installs_the_locked_requirements_and_runs_unprivileged():
    text = DOCKERFILE.read_text()
    instructions = re.sub(r"\\\n", " ", text)  # join continued lines
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", instructions, flags=re.MULTILINE)
    pip_lines = [line for line in instructions.splitlines() if "pip install" in line]
    assert any(
        "--require-hashes" in line and re.search(r"-r\s+requirements/prod\.txt\b", line)
        for line in pip_lines
    ), pip_lines
    assert (BASE_DIR / "requirements" / "prod.txt").is_file()
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
        "libmagic1",
    ):
        assert package in instructions
    users = re.findall(r"^USER\s+(\S+)", instructions, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"SECRET_KEY=\S+\s+python manage\.py collectstatic --noinput", instructions)


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()
    assert {".env", ".venv", "var", ".git"} <= set(ignored)


# --- .env.example ------------------------------------------------------------------------------


def test_settings_parser_finds_the_variables():
    found = variables_read_by_settings()
    assert {"SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL"} <= found


def test_env_example_lists_exactly_the_variables_settings_reads():
    listed = variables_listed_in_example()
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    read = variables_read_by_settings()
    assert sorted(read - set(listed)) == [], "missing from .env.example"
    assert sorted(set(listed) - read) == [], "listed in .env.example, not read by settings"


def test_env_example_explains_each_variable_and_its_default():
    lines = ENV_EXAMPLE.read_text().splitlines()
    assignment = re.compile(r"^#?\s*[A-Z][A-Z0-9_]*=")
    for index, line in enumerate(lines):
        if not assignment.match(line):
            continue
        comment = []  # the comment lines right above the variable
        for above in reversed(lines[:index]):
            if not above.startswith("#") or assignment.match(above):
                break
            comment.insert(0, above)
        assert comment, f"{line!r} has no comment"
        assert re.search(r"Défaut|Obligatoire", " ".join(comment)), f"{line!r}: no default given"


# --- check --deploy ---------------------------------------------------------------------------------


def run_manage(*args, env_overrides, tmp_path):
    """``manage.py`` with the real settings and only the given environment."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
        **env_overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_LIKE = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "aap.isere.fr",
    "DATABASE_URL": environment.value("DATABASE_URL"),
    "CELERY_BROKER_URL": environment.value("CELERY_BROKER_URL"),
    "SITE_URL": "https://aap.isere.fr",
    "EMAIL_URL": "smtp://smtp.isere.fr:587?tls=true",
}


def test_check_deploy_passes_with_production_values(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={**PRODUCTION_LIKE, "SECRET_KEY": secrets.token_urlsafe(64)},
        tmp_path=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_compose_environment_differs_from_production_only_by_plain_http(tmp_path):
    env = read_env_file(ENV_DOCKER)
    env.update(VAR_DIR=str(tmp_path / "var"), PRIVATE_MEDIA_ROOT=str(tmp_path / "private"))
    result = run_manage("check", "--deploy", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = set(re.findall(r"\((security\.\w+)\)", result.stderr))
    # HSTS, HTTPS redirect, secure session and CSRF cookies: what plain HTTP rules out.
    assert warnings == {"security.W004", "security.W008", "security.W012", "security.W016"}


def test_check_deploy_fails_on_a_short_secret_key(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={**PRODUCTION_LIKE, "SECRET_KEY": "court"},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_start_up_refuses_a_missing_secret_key_when_debug_is_off(tmp_path):
    result = run_manage("check", "--deploy", env_overrides=PRODUCTION_LIKE, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY doit être défini quand DEBUG est désactivé." in result.stderr


def test_uploads_switch_to_s3_compatible_storage_by_configuration():
    """With S3_BUCKET set, uploads go to private object storage (django-storages)."""
    code = (
        "from django.conf import settings; s = settings.STORAGES['default']; "
        "print(s['BACKEND'], s['OPTIONS']['bucket_name'], s['OPTIONS']['endpoint_url'], "
        "s['OPTIONS']['default_acl'], s['OPTIONS']['querystring_auth'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "S3_BUCKET": "aap-isere-pieces",
        "S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "storages.backends.s3.S3Storage",
        "aap-isere-pieces",
        "https://s3.fr-par.scw.cloud",
        "private",
        "True",
    ]


# --- gunicorn ---------------------------------------------------------------------------------------


def test_two_gunicorn_instances_on_one_host_serve_side_by_side_without_a_control_socket(
    tmp_path,
):
    """gunicorn.conf.py is read by a plain ``gunicorn config.wsgi``: two instances run
    together, and neither leaves a control socket in the shared home folder."""
    import http.client
    import socket
    import time

    def free_port():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    home = tmp_path / "home"
    home.mkdir()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        **PRODUCTION_LIKE,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "HOME": str(home),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi"],
            cwd=BASE_DIR,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"gunicorn-{port}.log").open("wb"),
        )
        for port in ports
    ]
    try:
        answers = {}
        deadline = time.monotonic() + 60
        while len(answers) < 2 and time.monotonic() < deadline:
            for port in ports:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/healthz")
                    answers[port] = connection.getresponse().status
                except OSError:
                    time.sleep(0.2)
        logs = {p: (tmp_path / f"gunicorn-{p}.log").read_text() for p in ports}
        assert answers == {ports[0]: 200, ports[1]: 200}, logs
        assert all(process.poll() is None for process in processes), logs
        assert not (home / ".gunicorn").exists()
        assert all("Using worker: sync" in log for log in logs.values()), logs
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


# --- The proxy (deploy/nginx/) ------------------------------------------------------------------


def test_every_front_serves_the_platform_with_the_same_proxy_directives():
    from tests.nginx import MAIN_CONF

    for name in ("aap.conf", "docker.conf"):
        assert "include aap/proxy.conf;" in (NGINX_DIR / name).read_text(), name
        # At the top of the file, which nginx reads inside its http block.
        assert re.search(r"^include aap/limits\.conf;", (NGINX_DIR / name).read_text(), re.M)
    assert "include aap/proxy.conf;" in MAIN_CONF  # the tests' and the bench's nginx
    assert re.search(r"^http \{\{\n(?:    .*\n)*    include aap/limits\.conf;", MAIN_CONF, re.M)
    assert "include aap/proxy_pass.conf;" in (NGINX_DIR / "proxy.conf").read_text()


def test_the_proxy_reads_whole_requests_and_whole_answers():
    directives = nginx_directives("proxy.conf", "proxy_pass.conf")
    assert directives["proxy_request_buffering"] == ["on"]
    assert directives["proxy_buffering"] == ["on"]


def test_the_proxy_caps_bodies_at_the_largest_upload_and_its_envelope():
    (limit,) = nginx_directives("proxy.conf")["client_max_body_size"]
    assert largest_upload() == 100 * MIB  # a piece's max_size_mb is at most 100
    assert largest_upload() < nginx_bytes(limit) <= largest_upload() + ENVELOPE


def test_the_proxy_closes_silent_clients_and_outwaits_gunicorn():
    directives = nginx_directives("proxy.conf", "proxy_pass.conf")
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        (value,) = directives[name]
        assert 0 < nginx_seconds(value) <= 60, name
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = directives[name]
        assert nginx_seconds(value) > int(gunicorn_default("TIMEOUT")), name


def test_nginx_error_pages_are_static_files_that_collectstatic_keeps_under_their_names(
    tmp_path,
):
    pages = {}
    for value in nginx_directives("proxy.conf")["error_page"]:
        *codes, uri = value.split()
        pages.update(dict.fromkeys(map(int, codes), uri))
    assert pages == {
        413: "/static/errors/413.html",
        429: "/static/errors/429.html",
        502: "/static/errors/50x.html",
        503: "/static/errors/50x.html",
        504: "/static/errors/50x.html",
    }
    # Production's storage (hashed names, compressed copies) keeps the plain names too,
    # which nginx reads from /srv/aap/static/ (STATIC_ROOT). The rest of static/ is left
    # out: compressing it takes seconds and proves nothing here.
    static_root = tmp_path / "static"
    others = [path.name for path in (BASE_DIR / "static").iterdir() if path.name != "errors"]
    result = run_manage(
        "collectstatic",
        "--noinput",
        *(f"--ignore={name}" for name in others),
        env_overrides={
            **PRODUCTION_LIKE,
            "SECRET_KEY": secrets.token_urlsafe(64),
            "STATIC_ROOT": str(static_root),
        },
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for uri in set(pages.values()):
        name = uri.removeprefix("/static/")
        assert (static_root / name).read_bytes() == (BASE_DIR / "static" / name).read_bytes()
        page = (static_root / name).read_text()
        assert '<html lang="fr">' in page and '<meta charset="utf-8">' in page


NO_CONTENT = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"


class Upstream:
    """A stand-in for gunicorn behind the real nginx: answers ``answer`` (204) to each
    request once it has read its whole body, and records its connections, the headers and
    the body sizes it read."""

    def __init__(self, answer: bytes = NO_CONTENT):
        self.answer = answer
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.connections = 0
        self.heads: list[bytes] = []
        self.bodies: list[int] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.close()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                head, _, received = head.partition(b"\r\n\r\n")
                self.heads.append(head)
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                size = len(received)
                while length and size < int(length.group(1)):
                    chunk = connection.recv(1024 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                self.bodies.append(size)
                connection.sendall(self.answer)

    def header(self, index: int, name: str) -> list[str]:
        """The values of header ``name`` in the ``index``-th request that reached it."""
        lines = self.heads[index].decode("latin-1").split("\r\n")[1:]
        pairs = [line.partition(":") for line in lines]
        return [value.strip() for key, _, value in pairs if key.strip().lower() == name.lower()]


def post_head(length: int, *extra: str) -> bytes:
    return (
        f"POST /candidatures/1/pieces/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n"
        + "".join(f"{line}\r\n" for line in extra)
        + "Connection: close\r\n\r\n"
    ).encode()


def status_of(client: socket.socket) -> int:
    answer = b""
    while b"\r\n" not in answer:
        chunk = client.recv(4096)
        if not chunk:
            break
        answer += chunk
    return int(answer.split(b" ", 2)[1])


def read_answer(client: socket.socket) -> tuple[int, dict[str, str], str]:
    """The status, the headers (lower-case names) and the text of a whole answer. The body
    is read up to its Content-Length: after a 413, nginx waits for the body it refused
    before it closes the connection."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := client.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers.get("content-length", 0)) and (chunk := client.recv(65536)):
        body += chunk
    return int(status_line.split()[1]), headers, body.decode()


def get_head(path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


nginx_required = pytest.mark.skipif(
    find_nginx() is None, reason="nginx is not installed (make test installs nginx-light)"
)


@nginx_required
def test_nginx_hands_a_slow_body_on_only_once_it_has_all_of_it():
    body = 200_000
    with (
        Upstream() as upstream,
        nginx_proxy(upstream.address) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as client,
    ):
        client.sendall(post_head(body) + b"x" * (body // 2))
        # A proxy that streamed bodies would have opened its upstream connection by now
        # (the pause can only let this pass wrongly, never fail wrongly).
        time.sleep(0.5)
        assert upstream.connections == 0
        client.sendall(b"x" * (body - body // 2))
        assert status_of(client) == 204
    assert upstream.bodies == [body]


@nginx_required
def test_nginx_takes_the_largest_upload_and_refuses_a_byte_more_than_its_limit():
    (limit,) = nginx_directives("proxy.conf")["client_max_body_size"]
    largest = largest_upload() + 4096  # the file, its multipart envelope and CSRF field
    with Upstream() as upstream, nginx_proxy(upstream.address) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(post_head(nginx_bytes(limit) + 1))
            assert status_of(client) == 413  # said by the headers, before any body
        assert upstream.connections == 0
        with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
            client.sendall(post_head(largest))
            chunk = b"x" * MIB
            for _ in range(largest // MIB):
                client.sendall(chunk)
            client.sendall(b"x" * (largest % MIB))
            assert status_of(client) == 204
    assert upstream.bodies == [largest]


@nginx_required
def test_nginx_names_the_client_and_its_arrival_itself_whatever_the_client_wrote():
    forged = ("X-Forwarded-For: 198.51.100.7", "X-Request-Start: t=1000000000.000")
    with (
        Upstream() as upstream,
        nginx_proxy(upstream.address) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as client,
    ):
        client.sendall(post_head(2, *forged) + b"ok")
        assert status_of(client) == 204
    # The address nginx saw, alone: the throttles cannot be told another one.
    assert upstream.header(0, "X-Forwarded-For") == ["127.0.0.1"]
    (stamp,) = upstream.header(0, "X-Request-Start")
    assert re.fullmatch(r"t=\d{10}\.\d{3} d=\d+\.\d{3}", stamp)
    assert not stamp.startswith("t=1000000000.")


@nginx_required
def test_nginx_spreads_requests_over_several_servers_and_passes_over_one_that_is_down():
    """Several web machines behind the documented proxy (README, « Several machines »):
    requests go to each server in turn; once one refuses connections, every request, a
    POST included (nothing had been sent to it), goes to the other."""

    def request(port: int, head: bytes, body: bytes = b"") -> int:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(head + body)
            return status_of(client)

    with (
        Upstream() as first,
        Upstream() as second,
        nginx_proxy([first.address, second.address]) as port,
    ):
        assert [request(port, get_head()) for _ in range(4)] == [204] * 4
        assert (first.connections, second.connections) == (2, 2)
        # The machine is gone: its port refuses connections (shutdown wakes the accept).
        second.server.shutdown(socket.SHUT_RDWR)
        second.server.close()
        answers = [request(port, get_head()) for _ in range(2)]
        answers += [request(port, post_head(2), b"ok") for _ in range(2)]
    assert answers == [204] * 4
    assert (first.connections, second.connections) == (6, 2)


FRENCH_PAGE = "text/html; charset=utf-8"


@nginx_required
def test_nginx_refuses_a_body_over_its_limit_with_a_french_page():
    (limit,) = nginx_directives("proxy.conf")["client_max_body_size"]
    with (
        Upstream() as upstream,
        nginx_proxy(upstream.address) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as client,
    ):
        client.sendall(post_head(nginx_bytes(limit) + 1))
        status, headers, page = read_answer(client)
    assert upstream.connections == 0
    assert status == 413
    assert headers["content-type"] == FRENCH_PAGE
    largest = largest_upload() // MIB
    assert f"Le fichier dépasse la taille maximale acceptée ({largest} Mo)" in page
    assert "rien n'a été enregistré" in page
    assert "retry-after" not in headers  # waiting does not make a file smaller


@nginx_required
def test_nginx_answers_a_french_page_while_gunicorn_is_away():
    with nginx_proxy(f"127.0.0.1:{free_port()}") as port:  # nothing listens there
        answers = []
        for request in (get_head("/"), post_head(2) + b"ok"):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
                client.sendall(request)
                answers.append(read_answer(client))
        # The pages are for nginx's refusals only, not an address of the site.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(get_head("/static/errors/50x.html"))
            assert read_answer(client)[0] == 404
    for status, headers, page in answers:
        assert status == 502
        assert headers["content-type"] == FRENCH_PAGE
        assert "Service momentanément indisponible, réessayez dans un instant." in page
        assert headers["retry-after"] == "30"


@nginx_required
@pytest.mark.parametrize("status", [429, 503])
def test_nginx_passes_the_platforms_own_refusals_as_they_are(status):
    page = "<p>La page de la plateforme : réessayez plus tard.</p>".encode()
    answer = (
        f"HTTP/1.1 {status} Refus\r\nRetry-After: 600\r\nContent-Type: {FRENCH_PAGE}\r\n"
        f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n"
    ).encode() + page
    with (
        Upstream(answer) as upstream,
        nginx_proxy(upstream.address) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as client,
    ):
        client.sendall(get_head("/"))
        answered, headers, text = read_answer(client)
    assert (answered, text) == (status, page.decode())
    assert headers["retry-after"] == "600"  # the platform's wait, not nginx's 30 s


def test_the_proxy_limits_the_requests_in_progress_of_each_client_address():
    (zone,) = nginx_directives("limits.conf")["limit_conn_zone"]
    key, size = re.fullmatch(r"(\$\w+) zone=aap_per_client:(\d+m)", zone).groups()
    assert key == "$aap_client" and nginx_bytes(size) >= 10 * MIB
    directives = nginx_directives("proxy.conf")
    assert directives["limit_conn"] == ["aap_per_client 20"]
    assert directives["limit_conn_status"] == ["429"]


def start_upload(port: int, source: str, stack: contextlib.ExitStack) -> socket.socket:
    """A request from ``source`` whose body nginx is waiting for: it answered 100 Continue,
    after counting the request against its client's limit."""
    client = stack.enter_context(
        socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    )
    client.sendall(post_head(2, "Expect: 100-continue"))
    assert status_of(client) == 100
    return client


def send_whole(port: int, source: str) -> tuple[int, dict[str, str], str]:
    with socket.create_connection(
        ("127.0.0.1", port), timeout=30, source_address=(source, 0)
    ) as client:
        client.sendall(post_head(2) + b"ok")
        return read_answer(client)


@nginx_required
def test_nginx_holds_twenty_requests_in_progress_per_client_address():
    (limit,) = nginx_directives("proxy.conf")["limit_conn"]
    per_client = int(limit.split()[1])
    # Other addresses of the loopback network stand for clients (127.0.0.1 is not counted).
    one, other = "127.0.0.2", "127.0.0.3"
    with (
        Upstream() as upstream,
        nginx_proxy(upstream.address) as port,
        contextlib.ExitStack() as stack,
    ):
        held = [start_upload(port, one, stack) for _ in range(per_client)]
        status, headers, page = send_whole(port, one)
        assert status == 429
        assert headers["content-type"] == FRENCH_PAGE
        assert "Trop de demandes sont en cours en même temps depuis votre connexion" in page
        assert headers["retry-after"] == "30"
        # Another address is served, and so is the machine itself, however many it holds.
        assert send_whole(port, other)[0] == 204
        for _ in range(per_client + 1):
            start_upload(port, "127.0.0.1", stack)
        # One upload ends and its client leaves: its place is given back, once nginx has
        # seen the connection close.
        held[0].sendall(b"ok")
        assert status_of(held[0]) == 204
        held[0].close()
        for _attempt in range(100):
            if (status := send_whole(port, one)[0]) != 429:
                break
            time.sleep(0.05)
        assert status == 204
    assert upstream.bodies == [2, 2, 2]


def nginx_accepts(tmp_path: Path, site: str) -> subprocess.CompletedProcess:
    """``nginx -t`` on ``site`` inside an http block, with deploy/nginx/ at aap/."""
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "aap").symlink_to(NGINX_DIR, target_is_directory=True)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n    include site.conf;\n}}\n"
    )
    return subprocess.run(
        [find_nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )


@nginx_required
def test_the_compose_proxy_configuration_is_valid_for_nginx(tmp_path):
    text = (NGINX_DIR / "docker.conf").read_text()
    # The names of the compose network do not resolve here: the same file, on local addresses.
    assert "server web:8000;" in text and "listen 80 default_server;" in text
    text = text.replace("server web:8000;", "server 127.0.0.1:8000;").replace(
        "listen 80 default_server;", f"listen 127.0.0.1:{free_port()} default_server;"
    )
    result = nginx_accepts(tmp_path, text)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@nginx_required
def test_the_bare_server_configuration_is_valid_for_nginx(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    # A throw-away certificate where the real one would be.
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=aap.test", "-keyout", str(tmp_path / "key.pem")),
            *("-out", str(tmp_path / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = (NGINX_DIR / "aap.conf").read_text()
    assert "server 127.0.0.1:8000;" in text  # GUNICORN_BIND=127.0.0.1:8000, README
    text = text.replace("/etc/ssl/aap/fullchain.pem", str(tmp_path / "cert.pem"))
    text = text.replace("/etc/ssl/aap/privkey.pem", str(tmp_path / "key.pem"))
    result = nginx_accepts(tmp_path, text)
    assert result.returncode == 0, result.stderr
    # Both servers (the redirect and TLS) serve the platform through the shared files.
    assert text.count("include aap/proxy_pass.conf;") == 2
    assert text.count("include aap/proxy.conf;") == 1


def test_compose_serves_the_platform_through_nginx_only():
    all_services = services()
    env = read_env_file(ENV_DOCKER)
    web, nginx = all_services["web"], all_services["nginx"]
    assert "ports" not in web, "gunicorn must not be reachable without nginx"
    assert nginx["image"].startswith("nginx:")
    mounts = {target: source for source, target in volume_mounts(nginx)}
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx/docker.conf"
    assert mounts["/etc/nginx/aap"] == "./deploy/nginx"
    # proxy.conf's /static/ is web's collectstatic volume, error pages included.
    alias, *others = nginx_directives("proxy.conf")["alias"]
    web_mounts = {target: source for source, target in volume_mounts(web)}
    assert mounts[alias.rstrip("/")] == web_mounts[env["STATIC_ROOT"]]
    assert others == [f"{alias}errors/"]
    # The host's port 8000 (SITE_URL) reaches nginx, and nginx reaches gunicorn's bind.
    docker = nginx_directives("docker.conf")
    assert [str(port) for port in nginx["ports"]] == [f"8000:{docker['listen'][0].split()[0]}"]
    assert urlparse(env["SITE_URL"]).port == 8000
    assert docker["server"] == [f"web:{gunicorn_default('BIND').rsplit(':', 1)[1]}"]
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/healthz" in str(nginx["healthcheck"]["test"])
    # The arrival stamp is believed from the compose network only, which is private.
    trusted = [ipaddress.ip_network(value) for value in env["ARRIVAL_TRUSTED_PROXIES"].split(",")]
    assert trusted and all(network.is_private for network in trusted)


# --- The antivirus (deploy/clamav/) --------------------------------------------------------------


def test_clamd_reports_what_it_cannot_vouch_for():
    options = clamd_options()
    for name in ("AlertOLE2Macros", "AlertEncrypted", "AlertExceedsMax"):
        assert options[name] == "yes", name
    assert options.get("HeuristicAlerts", "yes") == "yes"  # the Alert* options need it


def test_clamd_limits_cover_the_largest_upload_and_what_it_unpacks_to():
    options = clamd_options()
    largest = largest_upload()
    assert clamd_bytes(options["StreamMaxLength"]) >= largest
    assert clamd_bytes(options["MaxFileSize"]) >= largest
    unpacked = settings.UPLOAD_ARCHIVE_MAX_UNCOMPRESSED_MB * MIB
    assert clamd_bytes(options["MaxScanSize"]) >= largest + unpacked
    assert int(options["MaxFiles"]) >= settings.UPLOAD_ARCHIVE_MAX_ENTRIES
    assert 0 < int(options["MaxRecursion"]) <= 17  # 17: clamd's default


def test_compose_scans_uploads_with_the_committed_clamd_configuration():
    clamd_service = services()["clamd"]
    assert clamd_service["image"].startswith("clamav/clamav")
    mounts = {target: source for source, target in volume_mounts(clamd_service)}
    assert mounts["/etc/clamav/clamd.conf"] == "./deploy/clamav/clamd.conf"
    assert is_named_volume(mounts["/var/lib/clamav"])  # signatures kept across restarts
    assert "ports" not in clamd_service
    url = urlparse(read_env_file(ENV_DOCKER)["CLAMD_URL"])
    assert (url.scheme, url.hostname, url.port) == (
        "tcp",
        "clamd",
        int(clamd_options()["TCPSocket"]),
    )
    # The image's start script waits for a local socket before it calls clamd started.
    assert clamd_options()["LocalSocket"]


# What deploy/clamav/clamd.conf says about the image's layout; the rest is the policy.
CLAMD_LAYOUT = {"LocalSocket", "TCPSocket", "User", "DatabaseDirectory", "LogFile"}


# The one file the strict clamd's database knows, as a virus.
STRICT_SAMPLE = b"no more than a signature for clamd to load"


@pytest.fixture(scope="module")
def strict_clamd():
    """A clamd with the policy of deploy/clamav/clamd.conf, on a one-signature database."""
    executable = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
    if executable is None:
        pytest.skip("clamd is not installed (make test installs clamav-daemon)")
    with tempfile.TemporaryDirectory(prefix="aap-strict-clamd-") as folder:
        root = Path(folder)
        (root / "db").mkdir()
        (root / "tmp").mkdir()
        sample = STRICT_SAMPLE
        (root / "db" / "sample.hdb").write_text(
            f"{hashlib.md5(sample).hexdigest()}:{len(sample)}:Aap-Sample\n"
        )
        policy = [f"{name} {value}" for name, value in clamd_options().items()]
        policy = [line for line in policy if line.split()[0] not in CLAMD_LAYOUT]
        conf = root / "clamd.conf"
        conf.write_text(
            "\n".join(
                [
                    *policy,
                    f"LocalSocket {root}/clamd.sock",
                    f"DatabaseDirectory {root}/db",
                    f"TemporaryDirectory {root}/tmp",
                    f"LogFile {root}/clamd.log",
                    "Foreground yes",
                ]
            )
            + "\n"
        )
        output = (root / "clamd.out").open("wb")
        process = subprocess.Popen(
            [executable, f"--config-file={conf}"],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            client = clamd.ClamdUnixSocket(path=str(root / "clamd.sock"), timeout=10)
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    pytest.fail(f"clamd refused deploy/clamav/clamd.conf:\n{_clamd_logs(root)}")
                with contextlib.suppress(clamd.ClamdError):
                    if client.ping() == "PONG":
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"clamd did not answer in 60 s:\n{_clamd_logs(root)}")
                time.sleep(0.05)
            yield client
        finally:
            stop(process)
            output.close()


def _clamd_logs(root: Path) -> str:
    logs = [root / "clamd.out", root / "clamd.log"]
    return "\n".join(path.read_text(errors="replace") for path in logs if path.exists())


def nested_zips():
    """A file eleven archives deep: one level past clamd's MaxRecursion."""
    data = b"au fond"
    for level in range(int(clamd_options()["MaxRecursion"]) + 1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"niveau-{level}.zip" if level else "texte.txt", data)
        data = buffer.getvalue()
    return "poupees.zip", data


def crowded_zip():
    """One file more than clamd's MaxFiles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(int(clamd_options()["MaxFiles"]) + 1):
            archive.writestr(f"{index}.txt", b"x")
    return "foule.zip", buffer.getvalue()


@pytest.mark.parametrize(
    ("build", "signature"),
    [
        (hostile.zip_encrypted, "Heuristics.Encrypted.Zip"),
        (hostile.pdf_encrypted, "Heuristics.Encrypted.PDF"),
        (nested_zips, "Heuristics.Limits.Exceeded.MaxRecursion"),
        (crowded_zip, "Heuristics.Limits.Exceeded.MaxFiles"),
    ],
)
def test_clamd_with_the_committed_options_finds_what_it_cannot_scan(strict_clamd, build, signature):
    _name, data = build()
    assert strict_clamd.instream(io.BytesIO(data))["stream"] == ("FOUND", signature)


ENCRYPTED = "il est chiffré ou protégé par un mot de passe"
TOO_COMPLEX = "il est trop complexe pour être analysé entièrement"


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (hostile.zip_encrypted, ENCRYPTED),
        (hostile.pdf_encrypted, ENCRYPTED),
        (nested_zips, TOO_COMPLEX),
        (crowded_zip, TOO_COMPLEX),
    ],
)
def test_what_the_committed_clamd_cannot_vouch_for_is_refused_with_its_reason(
    strict_clamd, settings, build, reason
):
    """Not « contient un virus »: the person is told what to change."""
    settings.CLAMD_URL = f"unix://{strict_clamd.unix_socket}"
    name, data = build()
    with pytest.raises(ValidationError) as refusal:
        antivirus.scan(io.BytesIO(data), name=name)
    (message,) = refusal.value.messages
    assert message.startswith(
        f"Le fichier « {name} » a été refusé par l'analyse antivirus : {reason}"
    )
    assert "n'a pas été enregistré" in message and "déposez-le à nouveau" in message
    assert "virus (" not in message and "Heuristics" not in message
    assert refusal.value.code == "antivirus_refused"


def test_what_the_committed_clamd_knows_for_a_virus_is_still_called_one(strict_clamd, settings):
    settings.CLAMD_URL = f"unix://{strict_clamd.unix_socket}"
    with pytest.raises(ValidationError) as refusal:
        antivirus.scan(io.BytesIO(STRICT_SAMPLE), name="annexe.pdf")
    assert refusal.value.messages == [
        "Le fichier « annexe.pdf » contient un virus (Aap-Sample.UNOFFICIAL) : il a été refusé et "
        "n'a pas été enregistré."
    ]
    assert refusal.value.code == "infected"


def long_pdf(pages: int = 3000) -> bytes:
    """A long report: clamd counts each page's stream against MaxFiles."""
    pdf = pikepdf.new()
    for number in range(pages):
        page = pdf.add_blank_page()
        page.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 712 Td (page %d) Tj ET" % number)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_clamd_with_the_committed_options_passes_ordinary_documents(strict_clamd):
    for data in (
        modeles.funding_request_docx(),
        modeles.sample_pdf("Dossier de demande de financement", ["Un dossier ordinaire"]),
        long_pdf(),
    ):
        assert strict_clamd.instream(io.BytesIO(data))["stream"] == ("OK", None)
