"""Delivery to the central side over MQTT: topics, connection, outbox sender."""
