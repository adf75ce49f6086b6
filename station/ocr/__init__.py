"""OCR: the OCRmyPDF and Tesseract wrappers, and reading the header of page 1.
Imports no store, network or UI.
"""
