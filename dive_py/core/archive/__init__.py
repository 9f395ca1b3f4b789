"""Archives: uniform access to what holds an image -- a tar file, a compressed tar, a directory.

Every source answers the same questions: which members exist, what a small
member (a manifest, a config) contains, and what the entries of a layer
blob are.  ``base`` holds what they share, ``tarball`` reads a plain tar in
place, ``streamed`` makes one decompressing pass over a compressed one,
``layoutdir`` reads an unpacked layout, and ``opener.open_archive`` -- the
door of this room -- picks the kind from the bytes.  Nothing here knows
what an image is; that is :mod:`dive_py.core.oci`.
"""

from __future__ import annotations

from dive_py.core.archive.base import Archive, LayerBlob, Member
from dive_py.core.archive.opener import OpensArchive, open_archive, reopen_archive

__all__ = ["Archive", "LayerBlob", "Member", "OpensArchive", "open_archive", "reopen_archive"]
