"""UI state without a UI toolkit: rows, cursor, filters, collapse, text of each row.

Nothing here imports Textual or Rich; the widgets in ``dive_py.ui`` only
paint what these models compute, and the golden tests render them as text.
"""
