"""Registration labels and separator sheets: decoding (zxing-cpp, ZBar), the rules, splitting
pages into documents, label sheets. Imports no store, network or UI.
"""
