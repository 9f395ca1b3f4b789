"""Bytes to tar entries: decompression, windows on a blob, the header parser, layer records.

``blobio`` tells compressions apart and opens decompressing streams
(``zstdframes`` walks zstd frames to tell a truncated stream), ``tarwindow``
gives seekable and streamed views of a blob, ``tarscan`` parses headers
(PAX, GNU long names, base-256 numbers) strictly and boundedly, and
``layerread`` turns one layer's headers into columns of entries with
whiteouts and opaque markers recognised.  The lowest room: it imports only
the shared vocabulary (``kinds``, ``limits``).
"""
