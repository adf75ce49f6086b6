"""The embedded default: sample documents, a local broker, the whole system on loopback.
Production code never imports it (commands may).
"""
