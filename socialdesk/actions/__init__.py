"""Every write agents and rules perform. Each action records the ticket event and the
audit entry and queues the live update, in one place, inside the caller's transaction."""
