"""SQLite and the spool: schema, migrations, batches and their state machine, the outbox's rows.
Imports only plumbing and errors.
"""
