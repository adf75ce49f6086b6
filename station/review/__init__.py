"""The clerk's review of a batch: draft documents, their field checks, the countdown.
Imports barcodes, ocr, records and store; never pipeline, uplink or UI.
"""
