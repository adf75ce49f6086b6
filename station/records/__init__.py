"""The Vietnamese records rules: Decree 30 vocabulary and checks, the register and its exports,
XMP metadata, verify, signing. Imports no network or UI.
"""
