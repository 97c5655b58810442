"""The tamper-evident audit trail: a hash chain over every mutating action."""
