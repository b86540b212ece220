"""REST API v1: JSON in and out, bearer-token auth, clear errors, nothing half-saved.

`tickets` serves tickets and their messages; `loop` the feedback loop (drafts, their approval,
triage corrections, feedback events); `common` what both share: reading JSON bodies, idempotency
keys, list pages and field errors."""
