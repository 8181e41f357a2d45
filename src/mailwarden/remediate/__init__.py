"""Remediation: findings -> a plan of exact calls -> apply with a journal -> roll back.

    plan = build_plan(scan.result, scan.snapshot, PlanOptions(), now=datetime.now(UTC))
    report = await apply_plan(plan, wire, journal, dry_run=False)
    await rollback_run(report.run_id, wire, journal)

`export_powershell(plan)` writes the same plan as a script for change control.
"""
