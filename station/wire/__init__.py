"""Where the station side and the central side meet: the MQTT topics, the payload models both
read, the MQTT session, and the keys the fleet may set. Imports only station.common and errors.
"""
