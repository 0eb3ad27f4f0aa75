#!/usr/bin/env python3
"""Checks the files under deploy/ with the tools that exist offline.

One JUnit test case per check (written to $XML_OUTPUT_FILE, so bazel/test.sh
counts each); a check whose tool is missing is reported as skipped, not
passed. Run by //tests/deploy:deploy_test from the runfiles tree, where the
built binary is proxy/switchyard.

  systemd     systemd-analyze verify on the units; the directives the issue
              asks for; the socket unit's addresses are the example config's
  docker      build.sh stages the runtime tree from the built binary,
              list-runtime.sh lists it: the binary runs --version, the config
              passes --check, no build tools; the Dockerfile's shape
  kubernetes  kinds, probes on /healthz and /readyz of the admin port in the
              ConfigMap's config, preStop, resources, grace period, and the
              ConfigMap's config passes --check
  prometheus  promtool check config; the Kubernetes job parses
  grafana     the dashboard parses; every metric it queries is documented in
              docs/METRICS.md, and the unlabelled ones are in a live scrape
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
import urllib.request
import xml.etree.ElementTree as ET

import yaml

BINARY = os.path.abspath("proxy/switchyard")
TMP = os.environ.get("TEST_TMPDIR", tempfile.mkdtemp())


class Skip(Exception):
    pass


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def unit_directives(path):
    """{key: [values]} of a systemd unit file."""
    out = {}
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def switchyard_check(toml_text, name):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(toml_text)
    r = run([BINARY, "--check", "-c", path])
    assert r.returncode == 0, f"{name} fails --check:\n{r.stdout}{r.stderr}"


def port_of(address):
    return int(address.rsplit(":", 1)[1])


# ---- systemd ---------------------------------------------------------------------------

def test_systemd_unit_has_what_the_issue_asks():
    d = unit_directives("deploy/systemd/switchyard.service")
    def one(key):
        assert key in d, f"{key}= missing"
        return d[key][-1]
    assert one("Type") == "notify"
    assert "-HUP" in one("ExecReload") and "$MAINPID" in one("ExecReload")
    assert "--check" in one("ExecStartPre")
    assert one("DynamicUser") == "yes" or "User" in d
    assert "CAP_NET_BIND_SERVICE" in one("AmbientCapabilities")
    assert one("NoNewPrivileges") == "yes"
    assert one("ProtectSystem") == "strict"
    assert one("PrivateTmp") == "yes"
    assert int(one("LimitNOFILE")) >= 65536
    assert one("Restart") == "on-failure"
    assert one("KillSignal") == "SIGTERM"
    # The drain must fit: TimeoutStopSec above the example's drain_timeout.
    example = tomllib.loads(read("deploy/switchyard.toml"))
    drain = example["process"]["drain_timeout"]
    assert drain.endswith("s") and drain[:-1].isdigit(), drain
    assert int(one("TimeoutStopSec").rstrip("s")) > int(drain[:-1])


def test_systemd_analyze_verify():
    tool = shutil.which("systemd-analyze")
    if not tool:
        raise Skip("systemd-analyze not installed (apt-get install systemd)")
    # The units name /usr/local/bin/switchyard; point them at the built binary
    # so that verify checks the commands too.
    unit_dir = os.path.join(TMP, "units")
    os.makedirs(unit_dir, exist_ok=True)
    for name in ("switchyard.service", "switchyard.socket"):
        text = read(f"deploy/systemd/{name}").replace("/usr/local/bin/switchyard", BINARY)
        with open(os.path.join(unit_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    r = run([tool, "verify", os.path.join(unit_dir, "switchyard.service"),
             os.path.join(unit_dir, "switchyard.socket")],
            env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"})
    problems = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    assert r.returncode == 0 and not problems, "\n".join(problems)


def test_systemd_socket_matches_the_example_config():
    example = tomllib.loads(read("deploy/switchyard.toml"))
    wanted = {l["address"] for l in example["listener"]} | {example["admin"]["address"]}
    got = set(unit_directives("deploy/systemd/switchyard.socket")["ListenStream"])
    assert got == wanted, f"socket unit {sorted(got)} != config {sorted(wanted)}"


# ---- docker ----------------------------------------------------------------------------

def test_docker_build_stage_and_runtime_contents():
    out = os.path.join(TMP, "docker-out")
    r = run(["deploy/docker/build.sh", "--out", out, "--binary", BINARY])
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(["deploy/docker/list-runtime.sh", out])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    files = {l.split(" ", 2)[2]: l.split(" ", 2)[0] for l in lines
             if not l.startswith(("user ", "package "))}
    packages = {l.split(" ", 1)[1] for l in lines if l.startswith("package ")}
    # Every shared library the binary loads comes from a listed package, and no
    # package is a build tool or a -dev package.
    ldd = run(["ldd", BINARY]).stdout
    libs = re.findall(r"=> (/\S+)", ldd)
    assert libs, ldd
    for lib in libs:
        real = os.path.realpath(lib)
        owner = ""
        for candidate in (lib, real, "/usr" + lib, "/usr" + real,
                          lib.removeprefix("/usr"), real.removeprefix("/usr")):
            owner = run(["dpkg", "-S", candidate]).stdout
            if owner:
                break
        assert owner.split(":")[0] in packages, f"{lib} ({owner.strip()}) not in {packages}"
    assert {"libstdc++6", "libc6"} <= packages, packages
    bad = [p for p in packages if p.endswith("-dev") or re.match(r"(bazel|g\+\+|gcc|cpp|make|binutils)", p)]
    assert not bad, bad
    assert files.get("/usr/local/bin/switchyard") == "755", files
    assert "/etc/switchyard/switchyard.toml" in files, files
    build_tools = re.compile(r"(bazel|/gcc|/g\+\+|/cc1|/make$|/ld$|\.h$|\.hpp$|\.a$|\.o$|\.cc$)")
    assert not [p for p in files if build_tools.search(p)], files
    rootfs = os.path.join(out, "rootfs")
    v = run([rootfs + "/usr/local/bin/switchyard", "--version"])
    assert v.returncode == 0 and v.stdout.startswith("switchyard "), v.stdout + v.stderr
    c = run([rootfs + "/usr/local/bin/switchyard", "--check", "-c",
             rootfs + "/etc/switchyard/switchyard.toml"])
    assert c.returncode == 0, c.stdout + c.stderr
    # The user line matches the Dockerfile's useradd.
    users = [l for l in lines if l.startswith("user ")]
    assert users == ["user switchyard 10001:10001 /usr/sbin/nologin"], users
    dockerfile = read("deploy/docker/Dockerfile")
    assert re.search(r"useradd .*--uid 10001 --gid 10001 .*--shell /usr/sbin/nologin switchyard",
                     dockerfile.replace("\\\n", " ")), "useradd differs from list-runtime.sh"


def test_dockerfile_shape():
    text = read("deploy/docker/Dockerfile")
    lines = [l.strip() for l in text.replace("\\\n", " ").splitlines()
             if l.strip() and not l.strip().startswith("#")]
    froms = [l for l in lines if l.startswith("FROM ")]
    assert len(froms) == 2 and froms[0].startswith("FROM debian:12 AS build"), froms
    assert froms[1].startswith("FROM debian:12-slim"), froms
    assert "RUN deploy/docker/build.sh --out /out" in lines
    assert "COPY --from=build /out/rootfs/ /" in lines
    assert "COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt" in lines
    installs = [l for l in lines if "apt-get install" in l]
    assert len(installs) == 1 and "/tmp/runtime-packages.txt" in installs[0], installs
    user = [l for l in lines if l.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("0", "root"), user
    assert "STOPSIGNAL SIGTERM" in lines
    health = [l for l in lines if l.startswith("HEALTHCHECK ")]
    assert health and "/healthz" in health[0], health
    config = tomllib.loads(read("deploy/docker/switchyard.toml"))
    ports = {port_of(config["admin"]["address"])} | {port_of(l["address"]) for l in config["listener"]}
    exposed = {int(p) for l in lines if l.startswith("EXPOSE ") for p in l.split()[1:]}
    assert exposed == ports, f"EXPOSE {exposed} != config ports {ports}"
    assert f"/dev/tcp/127.0.0.1/{port_of(config['admin']['address'])}" in health[0]
    assert '"/etc/switchyard/switchyard.toml"' in [l for l in lines if l.startswith("CMD ")][0]


# ---- kubernetes ------------------------------------------------------------------------

def kubernetes_objects():
    objects = {}
    for name in sorted(os.listdir("deploy/kubernetes")):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            for doc in yaml.safe_load_all(read(f"deploy/kubernetes/{name}")):
                objects[doc["kind"]] = doc
    return objects


def test_kubernetes_manifests():
    objs = kubernetes_objects()
    assert set(objs) >= {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"}, set(objs)
    kustomize = yaml.safe_load(read("deploy/kubernetes/kustomization.yaml"))
    assert sorted(kustomize["resources"]) == sorted(
        n for n in os.listdir("deploy/kubernetes") if n.endswith(".yaml") and n != "kustomization.yaml")
    config = tomllib.loads(objs["ConfigMap"]["data"]["switchyard.toml"])
    admin_port = port_of(config["admin"]["address"])
    assert config["admin"]["address"].startswith("0.0.0.0:"), "probes need the admin port on the pod IP"
    listener_ports = {port_of(l["address"]) for l in config["listener"]}

    pod = objs["Deployment"]["spec"]["template"]["spec"]
    proxy = next(c for c in pod["containers"] if c["name"] == "switchyard")
    ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
    assert ports["admin"] == admin_port, (ports, admin_port)
    assert ports["http"] in listener_ports, (ports, listener_ports)

    def probe_target(probe):
        get = proxy[probe]["httpGet"]
        port = get["port"]
        return get["path"], ports.get(port, port)
    assert probe_target("livenessProbe") == ("/healthz", admin_port)
    assert probe_target("startupProbe") == ("/healthz", admin_port)
    assert probe_target("readinessProbe") == ("/readyz", admin_port)
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(proxy["resources"][kind]), proxy["resources"]
    pre_stop = proxy["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "/bin/sleep", pre_stop
    drain = config["process"]["drain_timeout"]
    assert drain.endswith("s") and drain[:-1].isdigit(), drain
    assert pod["terminationGracePeriodSeconds"] > int(pre_stop[1]) + int(drain[:-1])
    # Config reload: the ConfigMap mounted as a directory (subPath mounts never
    # update) and a reloader that can see and signal the proxy.
    mount = next(m for m in proxy["volumeMounts"] if m["mountPath"] == "/etc/switchyard")
    assert "subPath" not in mount
    assert pod.get("shareProcessNamespace") is True
    reloader = next(c for c in pod["containers"] if c["name"] == "config-reloader")
    assert "kill -HUP" in reloader["command"][-1]
    assert objs["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert all(p.get("targetPort") != "admin" for p in objs["Service"]["spec"]["ports"])
    pdb_selector = objs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]
    assert pdb_selector == objs["Deployment"]["spec"]["selector"]["matchLabels"]
    switchyard_check(objs["ConfigMap"]["data"]["switchyard.toml"], "configmap.toml")


# ---- prometheus and grafana ------------------------------------------------------------

def test_prometheus_scrape_config():
    k8s = yaml.safe_load(read("deploy/prometheus/kubernetes-scrape.yml"))
    assert k8s["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] == "pod"
    main = yaml.safe_load(read("deploy/prometheus/prometheus.yml"))
    static = [t for job in main["scrape_configs"] for s in job.get("static_configs", [])
              for t in s["targets"]]
    assert "127.0.0.1:9901" in static, static
    tool = shutil.which("promtool")
    if not tool:
        raise Skip("promtool not installed (apt-get install prometheus)")
    r = run([tool, "check", "config", "deploy/prometheus/prometheus.yml"])
    assert r.returncode == 0, r.stdout + r.stderr


def documented_metrics():
    names = set(re.findall(r"^\| `(switchyard_[a-z0-9_]+)`", read("docs/METRICS.md"), re.M))
    assert len(names) > 20, names
    return names


def dashboard_metrics():
    dash = json.loads(read("deploy/prometheus/grafana-dashboard.json"))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    titles = " ".join(p["title"] for p in dash["panels"])
    assert "Runtime" in titles and "Proxy" in titles, titles
    assert len(exprs) >= 20, len(exprs)
    return {re.sub(r"_(bucket|sum|count)$", "", m)
            for e in exprs for m in re.findall(r"switchyard_[a-z0-9_]+", e)}


def test_grafana_queries_documented_metrics():
    missing = dashboard_metrics() - documented_metrics()
    assert not missing, f"queried but not in docs/METRICS.md: {sorted(missing)}"


LIVE_CONFIG = """[admin]
address = "127.0.0.1:0"
[log]
access = "off"
[runtime]
workers = 1
[[listener]]
name = "main"
address = "127.0.0.1:0"
[[route]]
direct_response = { status = 200, body = "x" }
"""


def test_grafana_runtime_metrics_in_a_live_scrape():
    path = os.path.join(TMP, "live.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(LIVE_CONFIG)
    log_path = os.path.join(TMP, "live.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([BINARY, "-c", path], stderr=log, stdout=subprocess.DEVNULL)
    try:
        admin = None
        for _ in range(200):  # 10 s
            m = re.search(r"admin on 127\.0\.0\.1:(\d+)", read(log_path))
            if m:
                admin = int(m.group(1))
                break
            time.sleep(0.05)
        assert admin, read(log_path)
        body = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10).read().decode()
    finally:
        proc.terminate()  # our own child, by its handle
        assert proc.wait(timeout=20) == 0
    exposed = {re.sub(r"_(bucket|sum|count)$", "", l.split("{")[0].split(" ")[0])
               for l in body.splitlines() if l.startswith("switchyard_")}
    # Labelled proxy series appear once traffic creates them; the runtime's,
    # the config's and the build's always do.
    always = {m for m in dashboard_metrics()
              if m.startswith(("switchyard_runtime_", "switchyard_config_", "switchyard_build_"))}
    assert always, "the dashboard has no runtime panels"
    assert not always - exposed, f"not in a live scrape: {sorted(always - exposed)}"


# ---- runner ----------------------------------------------------------------------------

def main():
    os.chdir(os.environ.get("TEST_SRCDIR", ".") + "/" + os.environ.get("TEST_WORKSPACE", "")
             if os.environ.get("TEST_SRCDIR") else ".")
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    suite = ET.Element("testsuite", name="deploy_test", tests=str(len(tests)))
    failed = 0
    for name, fn in tests:
        case = ET.SubElement(suite, "testcase", name=name, classname="deploy")
        start = time.time()
        try:
            fn()
            print(f"[ PASSED ] {name}")
        except Skip as e:
            ET.SubElement(case, "skipped", message=str(e))
            case.set("result", "skipped")
            print(f"[ SKIPPED] {name}: {e}")
        except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            ET.SubElement(case, "failure", message=str(e)).text = traceback.format_exc()
            print(f"[ FAILED ] {name}\n{traceback.format_exc()}")
        case.set("time", f"{time.time() - start:.3f}")
    suite.set("failures", str(failed))
    xml_path = os.environ.get("XML_OUTPUT_FILE")
    if xml_path:
        ET.ElementTree(ET.Element("testsuites")).getroot().append(suite)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.ElementTree(root).write(xml_path, encoding="utf-8", xml_declaration=True)
    print(f"{len(tests) - failed} of {len(tests)} deploy checks did not fail")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
