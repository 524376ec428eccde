"""``auditor kpis``: the same figures as the API; bad input is one line and exit 2."""

from __future__ import annotations

import json

from click.testing import CliRunner


def run(app, args):
    from auditor.cli import cli

    with app.app_context():
        return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_kpis_json_and_table(stream_sqlite):
    app = stream_sqlite.hooks.loop.app
    day, last = stream_sqlite.base.date().isoformat(), stream_sqlite.late_delivery.date().isoformat()
    r = run(app, ["kpis", "--integration", "sg", "--from", day, "--to", last, "--json"])
    assert r.exit_code == 0, r.output
    (k,) = json.loads(r.output)["integrations"]
    api = stream_sqlite.get(f"/api/v1/integrations/sg/kpis?from={day}&to={last}").json
    assert k["counts"] == api["counts"] == {**k["counts"], "sent": 8, "delivered": 5}
    assert sorted(f["rule_id"] for f in k["findings"]) == sorted(f["rule_id"] for f in api["findings"])
    r = run(app, ["kpis", "--from", day, "--to", last])
    assert r.exit_code == 0, r.output
    sg_line = next(line for line in r.output.splitlines() if line.startswith("sg "))
    assert "62.50%" in sg_line and "SLA-DELIVERY-RATE" in sg_line


def test_kpis_bad_input(stream_sqlite):
    app = stream_sqlite.hooks.loop.app
    for args, text in ((["kpis", "--from", "yesterday"], "not a date"),
                       (["kpis", "--from", "2026-12-02", "--to", "2026-12-01"], "after"),
                       (["kpis", "--to", "0001-01-01"], "before 1970-01-01"),  # 30 days before: no such date
                       (["kpis", "--from", "2025-01-01", "--to", "2026-12-01"], "longer than 366 days"),
                       (["kpis", "--integration", "nope"], "no integration named 'nope'")):
        r = run(app, args)
        assert r.exit_code == 2 and text in r.output, r.output
