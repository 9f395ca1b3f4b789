"""Figures and comparisons on a loaded image: dive's metrics, per-layer trees, diff types, hashes.

``efficiency`` computes dive's score, wasted bytes and inefficient files
(with Go's sort order from ``gosort`` and dive's per-layer trees from
``layertree``), ``compare`` gives every path's diff type at a layer, and
``hashing`` hashes file contents only where equal sizes make it decide
something.  Works on the model only; it never opens an archive reader.
"""
