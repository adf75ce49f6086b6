"""Plumbing shared by every room: files, SQLite, logs, fonts, threads, processes, secrets.
Imports nothing of the station but `station.errors`.
"""
