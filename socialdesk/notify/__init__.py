"""E-mail notifications to agents and leads: the outbox rows, the SMTP mailer, the worker."""
