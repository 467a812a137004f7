"""The core's web pages: companies, members and roles, parties, exchange rates, the
activity log, attachments and event deliveries. Thin: forms in, services called."""
