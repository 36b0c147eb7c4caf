#!/usr/bin/env python3
"""Checks docker/ (dashboard, Prometheus config, Dockerfile, compose) against the real proxy.

Runs in CI without Docker. It starts the real binary ($OI_BINARY, default build/oauth-injector)
with a memory-store config on free loopback ports, fetches /metrics from its admin listener and
checks:
  - `promtool check metrics` accepts that output, `promtool check config` the Prometheus config;
  - the Grafana dashboard is valid dashboard JSON (uid, title, schemaVersion, unique panel ids,
    every panel on the provisioned data source, every target with an expr) and equals the output
    of docker/grafana/make_dashboard.py;
  - every metric named in every expr (panels and template variables) is exported (`_bucket` only
    for histograms, `_sum`/`_count` for histograms and summaries), every label in a matcher or a
    `by (...)` exists on one of the expr's metrics, and every fixed label value in an equality
    matcher occurs in the output (except `up` and the scrape labels, which Prometheus adds);
  - the container config passes `oauth-injector check-config`;
  - the Dockerfile's build packages come from scripts/lib.sh, its runtime packages cover every
    shared library `ldd` lists for the binary (owners from dpkg -S), and it runs as non-root
    with the documented ENTRYPOINT/CMD/EXPOSE;
  - the compose file has the four services, Redis append-only with a volume, Prometheus
    scraping the proxy's admin port, and every bind-mounted file exists.
Prints `ok - ...` / `FAIL - ...` per check and `N passed, M failed` last; exits 1 on failure.
Secrets are random per run and never printed.
"""

import base64
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "oauth-injector.json"
PROMETHEUS_YML = DOCKER / "prometheus" / "prometheus.yml"
DATASOURCES_YML = DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
COMPOSE = DOCKER / "docker-compose.yml"

# Series Prometheus makes itself, and labels it attaches to every scraped sample.
SYNTHETIC_METRICS = {"up": {"job", "instance"}}
SCRAPE_LABELS = {"job", "instance"}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "inf", "nan",
}

passed = 0
failed = 0


def check(description, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {description}")
    else:
        failed += 1
        print(f"FAIL - {description}" + (f": {detail}" if detail else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---- the proxy's /metrics -----------------------------------------------------------------

def fetch_metrics(binary, tmp):
    proxy_port, admin_port = free_port(), free_port()
    env = dict(os.environ, OI_OPS_ADMIN_TOKEN=secrets.token_hex(24),
               OI_OPS_TOKEN_KEY=base64.b64encode(os.urandom(32)).decode())
    config = tmp / "ops.yaml"
    config.write_text(f"""listen:
  proxy: 127.0.0.1:{proxy_port}
  admin: 127.0.0.1:{admin_port}
admin_token: ${{OI_OPS_ADMIN_TOKEN}}
threads: 1
store:
  memory: {{}}
  encryption_keys:
    - {{ id: k1, key: "${{OI_OPS_TOKEN_KEY}}" }}
connections:
  ops-conn:
    authorization_url: http://127.0.0.1:9/auth
    token_url: http://127.0.0.1:9/token
    client_id: ops-client
    allowed_hosts: [127.0.0.1]
plugins:
  ops-plugin: {{ connection: ops-conn }}
log: {{ level: warn, format: text }}
""")
    log = open(tmp / "proxy.log", "wb")
    proc = subprocess.Popen([str(binary), "run", "--config", str(config)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_for_port(admin_port, 15):
            sys.stderr.write((tmp / "proxy.log").read_text()[-2000:])
            return None
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10) as r:
            return r.read().decode()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def parse_exposition(text):
    """{family: {"type": t, "labels": {name: set(values)}}} from the text format."""
    families = {}
    sample_re = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+")
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            families[name] = {"type": kind.strip(), "labels": {}}
            continue
        if not line or line.startswith("#"):
            continue
        m = sample_re.match(line)
        if not m:
            continue
        family = family_of(m.group(1), families)
        if family is None:
            continue
        for label, value in label_re.findall(m.group(2) or ""):
            families[family]["labels"].setdefault(label, set()).add(value)
    return families


def family_of(series, families):
    """The family a series name belongs to, honouring histogram/summary suffixes."""
    if series in families:
        return series
    for suffix, kinds in (("_bucket", {"histogram"}), ("_sum", {"histogram", "summary"}),
                          ("_count", {"histogram", "summary"})):
        if series.endswith(suffix):
            base = series[: -len(suffix)]
            if base in families and families[base]["type"] in kinds:
                return base
    return None


# ---- PromQL -------------------------------------------------------------------------------

def analyse_expr(expr):
    """(metrics, matchers, grouping labels): metrics as names; matchers as (metric, label, op,
    value); grouping labels from by/without/on/ignoring/group_* lists."""
    text = re.sub(r"\$\{[^}]*\}|\$\w+", "VAR", expr)
    grouping = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)",
                         text):
        grouping |= {x.strip() for x in m.group(1).split(",") if x.strip()}
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", text)
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery selectors
    matchers = []
    metrics = []
    selector_re = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
    matcher_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
    for m in selector_re.finditer(text):
        name = m.group(1)
        for lm in matcher_re.finditer(m.group(2)):
            matchers.append((name, lm.group(1), lm.group(2), lm.group(3)))
    text = selector_re.sub(lambda m: (m.group(1) or "") + " ", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS or word == "VAR":
            continue
        metrics.append(word)
    return metrics, matchers, grouping


def check_expr(where, expr, families):
    metrics, matchers, grouping = analyse_expr(expr)
    ok, problems = bool(metrics), [] if metrics else ["no metric in the expression"]
    known_labels = set(SCRAPE_LABELS)
    for name in metrics:
        if name in SYNTHETIC_METRICS:
            known_labels |= SYNTHETIC_METRICS[name]
            continue
        family = family_of(name, families)
        if family is None:
            problems.append(f"metric {name} is not exported")
            continue
        known_labels |= set(families[family]["labels"])
        if name.endswith("_bucket") and families[family]["type"] == "histogram":
            known_labels.add("le")
    for name, label, op, value in matchers:
        if label not in known_labels:
            problems.append(f"label {label} is not on {name or 'the selected metrics'}")
            continue
        family = family_of(name, families) if name else None
        if op in ("=", "!=") and "VAR" not in value and family and label not in SCRAPE_LABELS:
            values = families[family]["labels"].get(label, set())
            if value not in values:
                problems.append(f"{family} has no {label}=\"{value}\"")
    for label in grouping - known_labels:
        problems.append(f"grouping label {label} is not on the expression's metrics")
    ok = not problems
    check(f"{where}: {', '.join(sorted(set(metrics))) or '?'}", ok, "; ".join(problems))


# ---- the checks ---------------------------------------------------------------------------

def check_dashboard(families):
    try:
        dashboard = json.loads(DASHBOARD.read_text())
    except (OSError, ValueError) as e:
        check("dashboard JSON parses", False, type(e).__name__)
        return
    check("dashboard JSON parses", True)
    datasource_uid = yaml.safe_load(DATASOURCES_YML.read_text())["datasources"][0]["uid"]
    check("dashboard has uid, title, schemaVersion and panels",
          all(dashboard.get(k) for k in ("uid", "title", "schemaVersion", "panels")))
    generated = subprocess.run([sys.executable, str(DOCKER / "grafana" / "make_dashboard.py"),
                                "--stdout"], capture_output=True, text=True)
    check("dashboard JSON equals make_dashboard.py's output",
          generated.returncode == 0 and generated.stdout == DASHBOARD.read_text(),
          "run python3 docker/grafana/make_dashboard.py")
    panels = dashboard.get("panels", [])
    ids = [p.get("id") for p in panels]
    check("panel ids are unique integers",
          len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids))
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title", "?")
        targets = p.get("targets") or []
        datasources = [p.get("datasource")] + [t.get("datasource") for t in targets]
        good = (all(isinstance(d, dict) and d.get("type") == "prometheus"
                    and d.get("uid") == datasource_uid for d in datasources)
                and targets and all(t.get("expr") and t.get("refId") for t in targets)
                and all(k in p.get("gridPos", {}) for k in ("x", "y", "w", "h")))
        check(f"panel '{title}' has gridPos, targets and the provisioned data source", good)
        for t in targets:
            check_expr(f"panel '{title}' {t.get('refId')}", t.get("expr", ""), families)
    for v in dashboard.get("templating", {}).get("list", []):
        query = v.get("query", {})
        query = query.get("query", "") if isinstance(query, dict) else query
        m = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*", query)
        if not m:
            check(f"variable {v.get('name')} is label_values(metric, label)", False, query)
            continue
        check_expr(f"variable {v.get('name')}", m.group(1), families)
        family = family_of(m.group(1), families)
        check(f"variable {v.get('name')}: label {m.group(2)} exists",
              m.group(2) in SCRAPE_LABELS
              or (family is not None and m.group(2) in families[family]["labels"]))


def run_ok(description, command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    output = (result.stdout + result.stderr).strip().splitlines()
    check(description, result.returncode == 0, " | ".join(output[-5:]))


def dockerfile_packages():
    """[(stage, [packages])] of every apt-get install in docker/Dockerfile."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    stages, stage = [], None
    for line in text.splitlines():
        m = re.match(r"\s*FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
        if m:
            stage = m.group(1)
        m = re.search(r"apt-get install ([^&]*)", line)
        if m:
            stages.append((stage, [w for w in m.group(1).split() if not w.startswith("-")]))
    return dict(stages)


def check_dockerfile(binary):
    text = (DOCKER / "Dockerfile").read_text()
    packages = dockerfile_packages()
    lib_sh = (ROOT / "scripts" / "lib.sh").read_text()
    listed = set(re.search(r"OI_DEBIAN_PACKAGES=\(([^)]*)\)", lib_sh).group(1).split())
    build = set(packages.get("build", []))
    check("Dockerfile build stage installs only scripts/lib.sh packages",
          build and build <= listed, " ".join(sorted(build - listed)))
    needed = {"cmake", "build-essential", "pkg-config", "libboost1.81-all-dev", "libssl-dev",
              "libyaml-cpp-dev", "libhiredis-dev", "prometheus-cpp-dev", "libspdlog-dev",
              "libcli11-dev"}
    check("Dockerfile build stage installs every library CMakeLists.txt finds",
          needed <= build, " ".join(sorted(needed - build)))
    runtime = set(packages.get("runtime", []))
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    libs = re.findall(r"=>\s+(/\S+)", ldd)
    owners = set()
    for lib in libs:
        real = os.path.realpath(lib)
        out = ""
        for path in (lib, real, real.replace("/lib/", "/usr/lib/", 1)):
            r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if r.returncode == 0:
                out = r.stdout
                break
        owners |= {line.split(":")[0] for line in out.splitlines() if line}
    base = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:12 itself
    missing = owners - runtime - base
    check("Dockerfile runtime stage installs the owner of every library ldd lists",
          bool(libs) and bool(owners) and not missing, " ".join(sorted(missing)))
    check("Dockerfile runtime stage has ca-certificates", "ca-certificates" in runtime)
    check("Dockerfile stages are debian:12",
          re.findall(r"^FROM\s+(\S+)", text, re.M) == ["debian:12", "debian:12"])
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    check("Dockerfile runs as a non-root user", user and user[-1] not in ("root", "0"))
    check("Dockerfile ENTRYPOINT, CMD and EXPOSE",
          '\nENTRYPOINT ["oauth-injector"]' in text
          and '\nCMD ["run", "--config", "/etc/oauth-injector/oauth-injector.yaml"]' in text
          and re.search(r"^EXPOSE 8080 8081 9090$", text, re.M))


def check_compose():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose.get("services", {})
    check("compose has proxy, redis, prometheus and grafana",
          {"proxy", "redis", "prometheus", "grafana"} <= set(services))
    redis = services.get("redis", {})
    command = " ".join(redis.get("command", []))
    check("compose redis is append-only on a volume",
          "--appendonly yes" in command
          and any(str(v).endswith(":/data") for v in redis.get("volumes", [])))
    missing = []
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                if not (COMPOSE.parent / source).exists():
                    missing.append(f"{name}: {source}")
        build = service.get("build")
        if isinstance(build, dict):
            context = COMPOSE.parent / build.get("context", ".")
            if not (context / build.get("dockerfile", "Dockerfile")).exists():
                missing.append(f"{name}: {build.get('dockerfile')}")
    check("compose bind mounts and Dockerfile exist", not missing, ", ".join(missing))
    container = yaml.safe_load((DOCKER / "oauth-injector.yaml").read_text())
    admin_port = container["listen"]["admin"].rsplit(":", 1)[1]
    prometheus = yaml.safe_load(PROMETHEUS_YML.read_text())
    targets = [t for job in prometheus.get("scrape_configs", [])
               for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
    check("Prometheus scrapes the proxy service's admin port",
          f"proxy:{admin_port}" in targets, " ".join(targets))
    check("container config binds 0.0.0.0 and uses the compose redis",
          all(v.startswith("0.0.0.0:") for v in container["listen"].values())
          and "redis://redis:6379/0" in container["store"]["redis"]["url"])


def main():
    binary = pathlib.Path(os.environ.get("OI_BINARY") or
                          pathlib.Path(os.environ.get("OI_BUILD_DIR", ROOT / "build"))
                          / "oauth-injector")
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: no proxy binary at {binary} (build it, or set OI_BINARY)")
    promtool = shutil.which("promtool")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        text = fetch_metrics(binary, tmp)
        check("the proxy starts and serves /metrics", text is not None)
        families = parse_exposition(text or "")
        check("/metrics has oauth_injector_ families",
              sum(f.startswith("oauth_injector_") for f in families) >= 8)
        if promtool:
            run_ok("promtool check metrics accepts /metrics", [promtool, "check", "metrics"],
                   input=text or "")
            run_ok("promtool check config accepts docker/prometheus/prometheus.yml",
                   [promtool, "check", "config", str(PROMETHEUS_YML)])
        else:
            check("promtool is installed (Debian package prometheus)", False)
        check_dashboard(families)
        env = dict(os.environ, ADMIN_TOKEN=secrets.token_hex(16),
                   TOKEN_KEY=base64.b64encode(os.urandom(32)).decode(),
                   GOOGLE_CLIENT_ID="ops-check", GOOGLE_CLIENT_SECRET=secrets.token_hex(8))
        run_ok("oauth-injector check-config accepts docker/oauth-injector.yaml",
               [str(binary), "check-config", "--config", str(DOCKER / "oauth-injector.yaml")],
               env=env)
        check_dockerfile(binary)
        check_compose()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
