"""The durable job queue: enqueue in the caller's transaction, claim, heartbeat, retry; the worker."""
