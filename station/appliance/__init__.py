"""The running station: its threads, stats, storage guard, doctor, systemd.
Imports every station room; never the central side or the UI."""
