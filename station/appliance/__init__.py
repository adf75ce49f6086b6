"""The running station: its threads, hub, stats, settings, storage guard, doctor, systemd.
Imports every station room; never the central side or the UI.
"""
