"""The clerk's review of a batch: draft documents, their field checks, the countdown.
Imports barcodes, records and store; never ocr, pipeline, uplink or UI.
"""
