"""The headless core: image formats, the layer model, merged trees and analysis.

Nothing in this package may import Textual, Rich or Typer; ``--ci`` and
``--json`` runs use only this package plus ``dive_py.report``.
"""
