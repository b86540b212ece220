"""The channel layers, tuned for one event reaching hundreds of sockets in one process:
`pooled_redis` at scale, `batched_sqlite` at the embedded default.

At scale, channels-redis turns each `hosts` entry into a redis-py pool with
`ConnectionPool.from_url(address, **entry)`. redis-py 8 caps that pool at 100 connections and
raises `MaxConnectionsError` for the 101st concurrent command instead of waiting: a few hundred
sockets connecting at once (each joins its groups with its own command) were refused. Here the
pool blocks for a free connection instead, up to `pool_timeout` seconds, and its size is a
setting (see CHANNEL_LAYERS in settings.py for how to choose it).

At the embedded default, channels-lite stores one row per socket for every group message and
a process reads the rows for its sockets back one at a time (a select and an update each), after
counting every socket's pending rows one query at a time before sending. Here both directions go
in batches: one grouped count, one bulk insert per group message; one select and one update per
batch of rows received.
"""
