"""The clerk's drafts of a batch: documents, pages and fields before confirmation.
Imports barcodes, ocr, records and store; never uplink or UI.
"""
