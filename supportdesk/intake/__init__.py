"""Every channel in: the web form, the REST API's shared parts (token auth, strict JSON,
idempotency keys), e-mail (raw MIME parsing in `email_in/`, threading, IMAP polling, the raw and
provider endpoints, attachments) — each ends in the desk's services, which store the ticket or
the message and start the pipeline."""
