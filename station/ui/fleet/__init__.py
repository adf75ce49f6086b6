"""The fleet dashboard's blueprint: stations, alerts, statistics, commands, metrics.
Imports the central side and the wire module; never a station room."""
