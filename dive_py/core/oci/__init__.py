"""Images in an archive: manifests and indexes, image configs and history, choosing one image.

``manifest`` finds every image of any layout (docker save, containers/image,
OCI layouts and archives, nested indexes) with bounded work, ``imageconfig``
reads the config (platform, history, runtime settings), and ``selection``
picks one by ``--image`` and ``--platform``.  It reads members through an
:class:`~dive_py.core.archive.Archive` and never parses a layer.
"""
