"""The Prometheus and Grafana assets pass promtool: rules, rule unit tests, dashboard PromQL."""

import json
import re
from pathlib import Path

import yaml

from tests.app.observability.promtool import ASSETS, run_promtool

# Grafana's variables, given values promtool can parse
_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$tenant": ".*"}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((ASSETS / "grafana-dashboard.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in _GRAFANA_VARIABLES.items():
                expr = expr.replace(name, value)
            found.append(expr)
    return found


def test_alert_rules_pass_promtool_check() -> None:
    # WHEN promtool checks the alert rules; THEN they are valid
    result = run_promtool("check", "rules", str(ASSETS / "alerts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_and_they_pass() -> None:
    # GIVEN the alerts and the unit tests
    rules = yaml.safe_load((ASSETS / "alerts.yml").read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"] if "alert" in r}
    tests = yaml.safe_load((ASSETS / "alerts_test.yml").read_text())
    tested = {case["alertname"] for t in tests["tests"] for case in t["alert_rule_test"]}
    # THEN each alert is tested
    assert alerts == tested
    assert {
        "ApplianceDown",
        "ApplianceQueueBackingUp",
        "ApplianceIngestFailuresRising",
        "ApplianceOutboxDeadLetters",
        "ApplianceDiskAlmostFull",
        "ApplianceLLMSlow",
    } <= alerts
    # AND promtool's unit tests pass
    result = run_promtool("test", "rules", str(ASSETS / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dashboard_expression_is_valid_promql(tmp_path: Path) -> None:
    # GIVEN every query of the Grafana dashboard as a recording rule
    expressions = dashboard_expressions()
    assert len(expressions) >= 20
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:panel_{n}", "expr": e} for n, e in enumerate(expressions)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    # WHEN promtool checks them; THEN each parses
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(expressions)} rules found" in result.stdout


def test_dashboard_queries_name_only_appliance_metrics() -> None:
    # every metric a panel reads is one the appliance exports (or Prometheus' own `up`)
    names = set()
    for expr in dashboard_expressions():
        names |= set(re.findall(r"\b(appliance_[a-z_]+|up)\b(?=[{\[ )]|$)", expr))
    assert names and all(n == "up" or n.startswith("appliance_") for n in names)


def test_scrape_config_points_at_the_metrics_path() -> None:
    config = yaml.safe_load((ASSETS / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and "alerts.yml" in config["rule_files"]
    result = run_promtool("check", "config", str(ASSETS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
