"""File contents out of an image: reading them back, and writing files and directories to disk.

``reading`` reads an entry's bytes (in place with ``pread`` or by streaming
a layer again), ``extract`` writes a path as it is after a layer, and
``destination`` creates the target exclusively and removes only what it
made.
"""
