#!/usr/bin/python3
"""Checks the Docker and Kubernetes examples without a Docker engine or a cluster.

  check_examples.py REPO_ROOT BINARY

docker/compose.yaml and docker/kubernetes-sidecar.yaml must parse as YAML and refer only to what
exists: files mounted from the repository, the config path the image reads, the ports the
config listens on, the accounts the init script creates. Every replproxy config they use (the
mounted docker/replproxy.toml, the ConfigMap's TOML) must pass `BINARY --check-config`, which
checks backend host names by syntax only, so no server has to be up. The Dockerfile's EXPOSE,
HEALTHCHECK, USER and config path are checked against the same config.
"""

import ipaddress
import os
import re
import subprocess
import sys
import tempfile
import tomllib

import yaml

# The tests run from the source tree: write no __pycache__ into it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile  # noqa: E402


class Checker:
    def __init__(self, root, binary):
        self.root = os.path.abspath(root)
        self.binary = binary
        self.problems = []

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return condition

    def check_config(self, label, path):
        """Runs --check-config; returns the parsed TOML when it passes."""
        result = subprocess.run([self.binary, "--check-config", path], capture_output=True, text=True)
        if not self.expect(result.returncode == 0,
                           f"{label}: replproxy --check-config failed:\n{result.stdout}{result.stderr}"):
            return None
        with open(path, "rb") as f:
            return tomllib.load(f)


def listens(config):
    """{port: host} of the client, admin and metrics listeners, with replproxy's defaults."""
    out = {}
    defaults = {"proxy": "127.0.0.1:6033", "admin": "127.0.0.1:6032", "metrics": "127.0.0.1:9033"}
    for section, default in defaults.items():
        if section == "proxy" or section in config:
            host, _, port = config.get(section, {}).get("listen", default).rpartition(":")
            out[int(port)] = host.strip("[]")
    return out


def proxy_port(config):
    return int(config.get("proxy", {}).get("listen", "127.0.0.1:6033").rpartition(":")[2])


def loopback(host):
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


def ping_port(c, label, argv, config):
    """A probe must be `replproxy --ping 127.0.0.1:PORT` on the config's client port."""
    ok = c.expect(len(argv) == 3 and argv[:2] == ["replproxy", "--ping"],
                  f"{label}: expected [replproxy, --ping, HOST:PORT], got {argv}")
    if ok:
        host, _, port = argv[2].rpartition(":")
        c.expect(host == "127.0.0.1" and int(port) == proxy_port(config),
                 f"{label}: pings {argv[2]}, but the client port is {proxy_port(config)}")


def config_path_of(argv, label, c):
    if c.expect("--config" in argv[:-1], f"{label}: no --config FILE in {argv}"):
        return argv[argv.index("--config") + 1]
    return None


def check_dockerfile(c):
    path = os.path.join(c.root, "docker", "Dockerfile")
    with open(path) as f:
        runtime = dockerfile.parse(f.read(), path)[-1]
    argv = dockerfile.exec_form(runtime.last("ENTRYPOINT").args)
    argv += dockerfile.exec_form(runtime.last("CMD").args)
    config_path = config_path_of(argv, "Dockerfile ENTRYPOINT+CMD", c)
    copies = {dest: sources for flags, sources, dest in map(dockerfile.copy_args, runtime.all("COPY"))
              if "from" not in flags}
    sources = copies.get(config_path, [])
    if not c.expect(len(sources) == 1, f"Dockerfile: nothing is copied to {config_path}"):
        return None
    config = c.check_config("docker/Dockerfile's default config " + sources[0],
                            os.path.join(c.root, sources[0]))
    if config is None:
        return None
    c.expect(dockerfile.exposed_ports(runtime) == set(listens(config)),
             f"Dockerfile: EXPOSE {sorted(dockerfile.exposed_ports(runtime))}, but {sources[0]} "
             f"listens on {sorted(listens(config))}")
    ping_port(c, "Dockerfile HEALTHCHECK",
              dockerfile.healthcheck_command(runtime.last("HEALTHCHECK")), config)
    user = runtime.last("USER")
    uid = user.args.split(":")[0] if user else "0"
    c.expect(uid.isdigit() and int(uid) != 0,
             f"Dockerfile: the runtime user must be numeric and not root, is {uid!r}")
    return {"config_path": config_path, "uid": int(uid) if uid.isdigit() else None}


def check_compose(c, image):
    base = os.path.join(c.root, "docker")
    with open(os.path.join(base, "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services", {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                c.expect(os.path.exists(os.path.join(base, source)),
                         f"compose.yaml: {name} mounts {source}, which does not exist")
    proxy = services.get("replproxy")
    if not c.expect(proxy is not None, "compose.yaml: no replproxy service"):
        return
    build = proxy.get("build", {})
    c.expect(os.path.normpath(os.path.join(base, build.get("context", "."), build.get("dockerfile", "")))
             == os.path.join(c.root, "docker", "Dockerfile"),
             f"compose.yaml: replproxy is not built from docker/Dockerfile: {build}")
    mode = proxy.get("network_mode", "")
    app_name = mode.removeprefix("service:")
    c.expect(mode.startswith("service:") and app_name in services,
             f"compose.yaml: replproxy must share a service's network: network_mode {mode!r}")
    c.expect("ports" not in proxy, "compose.yaml: a service with network_mode cannot publish ports")
    mounts = [v.split(":") for v in proxy.get("volumes", [])]
    configs = [m[0] for m in mounts if len(m) > 1 and m[1] == image["config_path"]]
    if not c.expect(len(configs) == 1, f"compose.yaml: replproxy mounts nothing at {image['config_path']}"):
        return
    config = c.check_config("compose.yaml's " + configs[0], os.path.join(base, configs[0]))
    if config is None:
        return

    # What the app service publishes is the sidecar's, and must be a non-loopback listener.
    ports = listens(config)
    for spec in services.get(app_name, {}).get("ports", []):
        container_port = int(str(spec).split(":")[-1].split("/")[0])
        c.expect(container_port in ports and not loopback(ports[container_port]),
                 f"compose.yaml: {app_name} publishes {container_port}, but the config listens "
                 f"on {ports} (a loopback listener cannot be published)")

    # Backends are compose services; the primary's replicas replicate from the primary backend.
    primary = [b for b in config["backends"] if b.get("role", "primary") == "primary"]
    for backend in config["backends"]:
        host, _, port = backend["address"].rpartition(":")
        c.expect(host in services and port == "3306",
                 f"compose.yaml: backend {backend['name']} at {backend['address']} is no service:3306")
        master = services.get(host, {}).get("environment", {}).get("MARIADB_MASTER_HOST")
        if backend.get("role") == "replica":
            c.expect(primary and master == primary[0]["address"].rpartition(":")[0],
                     f"compose.yaml: replica {host} replicates from {master}, not the primary backend")

    # The accounts the config logs in with are created by the primary's init script.
    init = [v.split(":")[0] for v in services.get(primary[0]["address"].rpartition(":")[0], {})
            .get("volumes", []) if "/docker-entrypoint-initdb.d/" in v]
    sql = "".join(open(os.path.join(base, p)).read() for p in init)
    accounts = [(u["name"], u.get("password")) for u in config["users"]]
    accounts.append((config["health"]["user"], config["health"]["password"]))
    for user, password in accounts:
        c.expect(re.search(rf"CREATE USER '{re.escape(user)}'@'%' IDENTIFIED VIA mysql_native_password "
                           rf"USING PASSWORD\('{re.escape(password or '')}'\)", sql),
                 f"compose.yaml: no init script of the primary creates {user} with the config's password")

    # The application talks to the sidecar's client port, as a configured user.
    entry = services[app_name].get("entrypoint", [])
    scripts = [v.split(":") for v in services[app_name].get("volumes", [])]
    loop = [s[0] for s in scripts if len(s) > 1 and s[1] in entry]
    if c.expect(len(loop) == 1, f"compose.yaml: {app_name}'s entrypoint script is not mounted"):
        text = open(os.path.join(base, loop[0])).read()
        user = config["users"][0]
        c.expect(f"--port={proxy_port(config)}" in text and "--host=127.0.0.1" in text and
                 f"--user={user['name']} --password={user.get('password')}" in text,
                 f"compose.yaml: {loop[0]} does not connect to 127.0.0.1:{proxy_port(config)} as "
                 f"{user['name']}")


def check_kubernetes(c, image):
    with open(os.path.join(c.root, "docker", "kubernetes-sidecar.yaml")) as f:
        documents = [d for d in yaml.safe_load_all(f) if d]
    maps = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "ConfigMap"}
    pods = [d for d in documents if d.get("kind") == "Pod"]
    if not c.expect(len(pods) == 1, "kubernetes-sidecar.yaml: expected one Pod"):
        return
    spec = pods[0]["spec"]
    containers = {x["name"]: x for x in spec["containers"]}
    proxy = containers.get("replproxy")
    if not c.expect(proxy is not None and len(containers) == 2,
                    "kubernetes-sidecar.yaml: expected containers app and replproxy"):
        return
    argv = proxy.get("command", ["replproxy"]) + proxy.get("args", [])
    config_path = config_path_of(argv, "kubernetes-sidecar.yaml replproxy", c)
    c.expect(config_path == image["config_path"],
             f"kubernetes-sidecar.yaml: --config {config_path}, the image reads {image['config_path']}")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounted = None
    for mount in proxy.get("volumeMounts", []):
        source = volumes.get(mount["name"], {}).get("configMap", {}).get("name")
        c.expect(source in maps, f"kubernetes-sidecar.yaml: volume {mount['name']} names no ConfigMap")
        if source in maps and config_path and config_path.startswith(mount["mountPath"].rstrip("/") + "/"):
            key = config_path[len(mount["mountPath"].rstrip("/")) + 1:]
            mounted = maps[source]["data"].get(key)
            c.expect(mounted is not None, f"kubernetes-sidecar.yaml: ConfigMap {source} has no key {key}")
    if not c.expect(mounted is not None, f"kubernetes-sidecar.yaml: nothing mounted at {config_path}"):
        return
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(mounted)
        f.flush()
        config = c.check_config("kubernetes-sidecar.yaml's ConfigMap", f.name)
    if config is None:
        return
    for probe in ("readinessProbe", "livenessProbe"):
        command = proxy.get(probe, {}).get("exec", {}).get("command")
        if c.expect(command, f"kubernetes-sidecar.yaml: replproxy has no exec {probe}"):
            ping_port(c, f"kubernetes-sidecar.yaml {probe}", command, config)
    ports = listens(config)
    for port in proxy.get("ports", []):
        number = port["containerPort"]
        c.expect(number in ports and not loopback(ports[number]),
                 f"kubernetes-sidecar.yaml: containerPort {number}, but the config listens on {ports}")
    annotated = pods[0]["metadata"].get("annotations", {}).get("prometheus.io/port")
    if annotated:
        c.expect(int(annotated) == int(config["metrics"]["listen"].rpartition(":")[2]),
                 f"kubernetes-sidecar.yaml: prometheus.io/port {annotated} is not the metrics port")
    security = proxy.get("securityContext", {})
    c.expect(security.get("runAsUser") == image["uid"],
             f"kubernetes-sidecar.yaml: runAsUser {security.get('runAsUser')}, the image's user is "
             f"{image['uid']}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    c = Checker(*sys.argv[1:])
    image = check_dockerfile(c)
    if image:
        check_compose(c, image)
        check_kubernetes(c, image)
    for problem in c.problems:
        print("FAIL:", problem)
    if not c.problems:
        print("docker examples: Dockerfile, compose.yaml and kubernetes-sidecar.yaml agree with "
              "their configs")
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
