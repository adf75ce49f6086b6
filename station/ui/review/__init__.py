"""The counter's blueprint: scan, review, confirm, outbox, settings, the PIN groups.
Imports the running station (appliance) and the records rules; never the central side."""
