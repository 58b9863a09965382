"""Delivery: the outbox rows written with each change, sent after commit, at least once.

Modules, one job each:

- `queue`       the outbox table as a queue: claim with a lease, mark sent (SQL for both databases)
- `jobs`        `deliver_pending`: claim, resolve, render, send, mark; retries and back-off
- `recipients`  reference forms (`reporter`, `task_unit`, `role:R@unit:U` …) → addresses
- `render`      Jinja2 templates per tenant and locale → subject, text, HTML
- `channels`    where messages go: `SmtpChannel` (the one module that talks SMTP), `InboxChannel`
- `admin`       what `komunikator outbox status|retry|purge` shows and does
- `digest`      the staff's daily digest (`send_digests`)
- `embedded`    the in-process runner of embedded mode
- `worker`      the Celery app (production)
- `bell`        ring after a commit, so new rows go out soon

Process timers and SLA escalation live in `komunikator.engine.timers`.
"""
