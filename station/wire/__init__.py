"""Where the station side and the central side meet: MQTT topics, payload models, the MQTT
session, event types, remote commands and their keys. Imports only station.common and errors.
"""
