"""Delivery from the station: the outbox sender (resumable file transfer), telemetry, remote
commands. Imports the store, config, appliance stats and the wire module; never central or UI."""
