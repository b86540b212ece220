"""Every message out: the transactional outbox for replies (`delivery.py`), the reply e-mails
and SMTP errors (`mail.py`), and automatic mail — acknowledgements and their loop guard
(`automail.py`)."""
