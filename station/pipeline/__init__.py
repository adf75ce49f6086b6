"""The conductor: the page step, batch records, the duplicate rule, `process`, the batches of `run`.
Imports capture, imaging, barcodes, ocr, records, review, store and config; never appliance,
uplink, central or UI.
"""
