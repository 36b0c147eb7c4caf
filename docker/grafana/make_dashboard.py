#!/usr/bin/env python3
"""Writes dashboards/oauth-injector.json, the Grafana dashboard of docker-compose.yml.

The JSON is generated so that its panels stay uniform (data source, units, legends); edit this
file and run it (`python3 docker/grafana/make_dashboard.py`), then commit both. The check
tests/ops/check_observability.py fails when the committed JSON differs from this output, and
when an expression names a metric, label or label value the proxy does not export.

Rows answer, in order: is it healthy; who is failing and why; how fast; grants and the store;
connections, certificates and reloads.
"""

import json
import pathlib
import sys

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # provisioning/datasources uid
P = "oauth_injector_"
RI = "$__rate_interval"
SEL = 'instance=~"$instance"'
PLUGIN_SEL = f'{SEL}, plugin=~"$plugin", connection=~"$connection"'

_next_id = [0]
_y = [0]


def _id():
    _next_id[0] += 1
    return _next_id[0]


def row(title):
    panel = {"type": "row", "id": _id(), "title": title, "collapsed": False,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": _y[0]}, "panels": []}
    _y[0] += 1
    return panel


def target(expr, legend, ref):
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref,
            "range": True}


def panel(kind, title, description, targets, x, w, h, unit="short", stack=False, extra=None):
    """One panel; targets is a list of (expr, legend)."""
    result = {
        "type": kind,
        "id": _id(),
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": h, "w": w, "x": x, "y": _y[0]},
        "targets": [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }
    if kind == "timeseries":
        result["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
            "showPoints": "never"}
        result["options"] = {"legend": {"displayMode": "table", "placement": "right",
                                        "calcs": ["mean", "max"]},
                             "tooltip": {"mode": "multi", "sort": "desc"}}
    elif kind == "stat":
        result["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                               "values": False},
                             "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    if extra:
        for key, value in extra.items():
            result["fieldConfig"]["defaults"][key] = value
    return result


def thresholds(*steps):
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for v, c in steps]}


def quantiles(metric, by, where):
    grouping = f"le, {by}" if by else "le"
    legend_suffix = " {{" + by + "}}" if by else ""
    return [(f"histogram_quantile({q}, sum by ({grouping}) "
             f"(rate({P}{metric}_bucket{{{where}}}[{RI}])))", f"p{name}{legend_suffix}")
            for q, name in (("0.5", "50"), ("0.95", "95"), ("0.99", "99"))]


def build():
    panels = []

    # ---- is it healthy -----------------------------------------------------------------------
    panels.append(row("Health"))
    panels += [
        panel("stat", "Scrape up", "1 when Prometheus reaches the admin listener's /metrics.",
              [(f'up{{job="oauth-injector", {SEL}}}', "{{instance}}")], 0, 4, 4, "none",
              extra={"thresholds": thresholds((None, "red"), (1, "green"))}),
        panel("stat", "Requests / s", "Proxy requests ending per second, every outcome.",
              [(f"sum(rate({P}requests_total{{{PLUGIN_SEL}}}[{RI}]))", "requests/s")],
              4, 5, 4, "reqps"),
        panel("stat", "Forwarded", "Share of proxy requests forwarded upstream (the rest were "
              "refused by the proxy or abandoned by the client).",
              [(f'sum(rate({P}requests_total{{{PLUGIN_SEL}, outcome="forwarded"}}[{RI}])) / '
                f"sum(rate({P}requests_total{{{PLUGIN_SEL}}}[{RI}]))", "forwarded")],
              9, 5, 4, "percentunit",
              extra={"thresholds": thresholds((None, "red"), (0.9, "orange"), (0.99, "green"))}),
        panel("stat", "Store errors / s", "Failed store (Redis) operations per second.",
              [(f"sum(rate({P}store_errors_total{{{SEL}}}[{RI}]))", "errors/s")],
              14, 5, 4, "ops",
              extra={"thresholds": thresholds((None, "green"), (0.001, "red"))}),
        panel("stat", "Proxy connections", "Open client connections on the proxy listener.",
              [(f'sum({P}active_connections{{{SEL}, listener="proxy"}})', "open")],
              19, 5, 4, "none"),
    ]
    _y[0] += 4

    # ---- who is failing, why -----------------------------------------------------------------
    panels.append(row("Requests: who is failing, why"))
    panels += [
        panel("timeseries", "Requests by outcome", "forwarded, client_error (the client went "
              "away) or the refusal code (SPEC.md Refusals).",
              [(f"sum by (outcome) (rate({P}requests_total{{{PLUGIN_SEL}}}[{RI}]))",
                "{{outcome}}")], 0, 12, 8, "reqps", stack=True),
        panel("timeseries", "Requests by plugin", "Per configured plugin; `unknown` is a "
              "request without a configured plugin.",
              [(f"sum by (plugin) (rate({P}requests_total{{{PLUGIN_SEL}}}[{RI}]))",
                "{{plugin}}")], 12, 12, 8, "reqps", stack=True),
        panel("timeseries", "Not forwarded, by plugin, connection and outcome",
              "Who is failing and why: every outcome except forwarded.",
              [(f"sum by (plugin, connection, outcome) (rate({P}requests_total{{{PLUGIN_SEL}, "
                f'outcome!="forwarded"}}[{RI}])) > 0',
                "{{plugin}} / {{connection}}: {{outcome}}")], 0, 12, 8, "reqps"),
        panel("timeseries", "Refusals by code (all listeners)",
              "Responses the proxy made itself on the proxy, public and admin listeners.",
              [(f"sum by (code) (rate({P}refusals_total{{{SEL}}}[{RI}]))", "{{code}}")],
              12, 12, 8, "reqps", stack=True),
    ]
    _y[0] += 16

    # ---- latency -----------------------------------------------------------------------------
    panels.append(row("Latency"))
    panels += [
        panel("timeseries", "Request duration (forwarded)", "From the request head to the end "
              "of the response, forwarded requests.",
              quantiles("request_duration_seconds", "", f'{SEL}, outcome="forwarded"'),
              0, 8, 8, "s"),
        panel("timeseries", "Upstream duration", "From sending the request upstream to the "
              "upstream's response head.",
              quantiles("upstream_duration_seconds", "", SEL), 8, 8, 8, "s"),
        panel("timeseries", "Request duration p95 by outcome", "forwarded, refused, "
              "client_error.",
              [(f"histogram_quantile(0.95, sum by (le, outcome) "
                f"(rate({P}request_duration_seconds_bucket{{{SEL}}}[{RI}])))",
                "p95 {{outcome}}")], 16, 8, 8, "s"),
        panel("timeseries", "Upstream connections", "new: opened; reused: taken from the "
              "pool; failed: could not connect.",
              [(f"sum by (result) (rate({P}upstream_connections_total{{{SEL}}}[{RI}]))",
                "{{result}}")], 0, 12, 8, "ops", stack=True),
        panel("timeseries", "Mean request and upstream duration", "sum / count of the "
              "histograms.",
              [(f"sum(rate({P}request_duration_seconds_sum{{{SEL}}}[{RI}])) / "
                f"sum(rate({P}request_duration_seconds_count{{{SEL}}}[{RI}]))", "request"),
               (f"sum(rate({P}upstream_duration_seconds_sum{{{SEL}}}[{RI}])) / "
                f"sum(rate({P}upstream_duration_seconds_count{{{SEL}}}[{RI}]))", "upstream")],
              12, 12, 8, "s"),
    ]
    _y[0] += 16

    # ---- grants and the store ----------------------------------------------------------------
    panels.append(row("Grants and store"))
    panels += [
        panel("timeseries", "Token refreshes by connection and result",
              "success, invalid_grant (the user must authorize again), error, skipped.",
              [(f"sum by (connection, result) (rate({P}token_refresh_total{{{SEL}, "
                f'connection=~"$connection"}}[{RI}]))', "{{connection}}: {{result}}")],
              0, 12, 8, "ops"),
        panel("timeseries", "Grant cache hit ratio", "In-process grant cache: hits / all "
              "lookups (hit, miss, stale).",
              [(f'sum(rate({P}token_cache_lookups_total{{{SEL}, result="hit"}}[{RI}])) / '
                f"sum(rate({P}token_cache_lookups_total{{{SEL}}}[{RI}]))", "hit ratio")],
              12, 6, 8, "percentunit", extra={"min": 0, "max": 1}),
        panel("timeseries", "Grant cache lookups", "By result.",
              [(f"sum by (result) (rate({P}token_cache_lookups_total{{{SEL}}}[{RI}]))",
                "{{result}}")], 18, 6, 8, "ops", stack=True),
        panel("timeseries", "Store errors by operation, and retries",
              "load, save, remove, ping, lock (refresh lock), state (OAuth state records); "
              "retries: commands sent again after a failover, by whether that worked.",
              [(f"sum by (operation) (rate({P}store_errors_total{{{SEL}}}[{RI}]))",
                "{{operation}}"),
               (f"sum by (result) (rate({P}store_retries_total{{{SEL}}}[{RI}]))",
                "retry {{result}}")], 0, 12, 8, "ops"),
        panel("timeseries", "Store latency by operation", "p50 and p99 round trip.",
              [(f"histogram_quantile(0.5, sum by (le, operation) "
                f"(rate({P}store_duration_seconds_bucket{{{SEL}}}[{RI}])))",
                "p50 {{operation}}"),
               (f"histogram_quantile(0.99, sum by (le, operation) "
                f"(rate({P}store_duration_seconds_bucket{{{SEL}}}[{RI}])))",
                "p99 {{operation}}")], 12, 12, 8, "s"),
    ]
    _y[0] += 16
    panels += [
        panel("timeseries", "Token refresh duration", "p50 and p99 of one refresh, waiting for "
              "another owner's lock included.",
              [(f"histogram_quantile(0.5, sum by (le, connection) "
                f"(rate({P}token_refresh_duration_seconds_bucket{{{SEL}, "
                f'connection=~"$connection"}}[{RI}])))', "p50 {{connection}}"),
               (f"histogram_quantile(0.99, sum by (le, connection) "
                f"(rate({P}token_refresh_duration_seconds_bucket{{{SEL}, "
                f'connection=~"$connection"}}[{RI}])))', "p99 {{connection}}")],
              0, 12, 8, "s"),
        panel("timeseries", "Refresh lock waits", "Refreshes that found another worker or "
              "replica holding the grant's lock, and their mean wait.",
              [(f"sum by (connection) (rate({P}token_refresh_lock_waits_total{{{SEL}, "
                f'connection=~"$connection"}}[{RI}]))', "waits {{connection}}"),
               (f"sum by (connection) (rate({P}token_refresh_lock_wait_seconds_sum{{{SEL}, "
                f'connection=~"$connection"}}[{RI}])) / sum by (connection) '
                f"(rate({P}token_refresh_lock_wait_seconds_count{{{SEL}, "
                f'connection=~"$connection"}}[{RI}]))', "mean wait (s) {{connection}}")],
              12, 12, 8, "short"),
    ]
    _y[0] += 8

    # ---- connections, certificates, reloads --------------------------------------------------
    panels.append(row("Connections, certificates, reloads"))
    panels += [
        panel("timeseries", "Active connections by listener", "proxy, public, admin.",
              [(f"sum by (listener) ({P}active_connections{{{SEL}}})", "{{listener}}")],
              0, 8, 8, "none"),
        panel("timeseries", "Interception certificates issued", "Leaf certificates minted "
              "for intercepted CONNECT tunnels, per 5 minutes.",
              [(f"sum(increase({P}intercept_certificates_issued_total{{{SEL}}}[5m]))",
                "issued")], 8, 8, 8, "none"),
        panel("timeseries", "Config reloads by result", "success or failure (a refused "
              "config keeps the old one), per 5 minutes.",
              [(f"sum by (result) (increase({P}config_reloads_total{{{SEL}}}[5m]))",
                "{{result}}")], 16, 8, 8, "none"),
    ]
    _y[0] += 8

    def variable(name, label, query):
        return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
                "query": {"query": query, "refId": f"{name}-variable"},
                "definition": query, "refresh": 2, "includeAll": True, "multi": True,
                "allValue": ".*", "current": {"text": "All", "value": "$__all"},
                "sort": 1}

    return {
        "uid": "oauth-injector",
        "title": "oauth-injector",
        "description": "Is it healthy, who is failing, why: requests, latency, grants, store, "
                       "connections (metrics: README 'Metrics').",
        "tags": ["oauth-injector"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            variable("instance", "Instance", f"label_values({P}requests_total, instance)"),
            variable("plugin", "Plugin", f"label_values({P}requests_total, plugin)"),
            variable("connection", "Connection",
                     f"label_values({P}requests_total, connection)"),
        ]},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


def main():
    out = pathlib.Path(__file__).resolve().parent / "dashboards" / "oauth-injector.json"
    text = json.dumps(build(), indent=2) + "\n"
    if len(sys.argv) > 1 and sys.argv[1] == "--stdout":
        sys.stdout.write(text)
    else:
        out.write_text(text)


if __name__ == "__main__":
    main()
