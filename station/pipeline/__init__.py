"""The conductor: the page step and the document step, shared by `process` and `run`.
Imports capture, imaging, barcodes, ocr, records, review and store; never uplink or UI.
"""
