"""Synthetic images covering every edge case, built with dive_py.fixtures.builder.

``edge_case_image()`` is the workhorse: every kind of entry and every kind of
change a layer can make, in one image, so each archive layout can be checked
to give identical figures and an identical merged tree.
"""

from __future__ import annotations

from dive_py.fixtures.builder import ImageSpec


def _bytes(seed: int, size: int) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def edge_case_image(tag: str = "edge:latest") -> ImageSpec:
    img = ImageSpec(tags=[tag])
    img.config = {
        "Env": ["A=1"],
        "Cmd": ["sh"],
        "User": "1000",
        "WorkingDir": "/app",
        "ExposedPorts": {"80/tcp": {}},
        "Labels": {"k": "v"},
    }
    img.empty("ARG V=1")  # history[0] is an empty-layer step
    base = img.layer("/bin/sh -c #(nop) ADD file:abc in / ")
    for d in ("bin", "etc", "usr", "usr/lib", "tmp", "var", "var/log"):
        base.dir(d, mode=0o1777 if d == "tmp" else 0o755)
    base.file("bin/busybox", _bytes(1, 5000), mode=0o755)
    base.symlink("bin/sh", "/bin/busybox")
    base.hardlink("bin/ls", "bin/busybox", mode=0o755)
    base.file("bin/su", _bytes(2, 700), mode=0o4755)
    base.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    base.file("etc/shadow", "root:*:1::::::\n", mode=0o640, gid=42)
    base.fifo("var/log/pipe")
    base.chardev("usr/null")
    base.dir("olddir")
    base.file("olddir/a.txt", "aaaa")
    base.dir("olddir/sub")
    base.file("olddir/sub/b.txt", "bbbbbb")
    base.file("becomes-dir", "file first\n")
    base.dir("becomes-file")
    base.file("becomes-file/inner", "inner\n")
    base.dir("opaque")
    base.file("opaque/keep-not", "lower content\n")
    base.dir("opaque/lowersub")
    base.file("opaque/lowersub/x", "xx")
    base.symlink("retarget", "etc/passwd")
    img.empty("ENV A=1")

    odd = img.layer("COPY odd names")
    odd.dir("names")
    odd.file("names/with space.txt", "s")
    odd.file("names/ünïcödé-☃.txt", "u")
    odd.file("names/-leading-dash", "d")
    odd.file("names/" + "n" * 180 + ".txt", "long name")
    odd.file("names/" + "/".join(["deep" + str(i) for i in range(30)]) + "/leaf", "deep path")
    odd.file("names/quote\"and'apostrophe", "q")
    odd.file("big.bin", _bytes(3, 20000))

    img.empty("LABEL x=y")
    img.layer("RUN true")  # an empty layer (1024-byte tar) without the empty_layer flag

    change = img.layer("RUN change everything")
    change.dir("etc")
    change.file("etc/passwd", "root:x:0:0::/root:/bin/bash\n")  # modified content
    change.file("etc/shadow", "root:*:1::::::\n", mode=0o600, gid=42)  # mode only
    change.whiteout("bin/su")  # delete a file
    change.whiteout("olddir")  # delete a directory
    change.dir("becomes-dir").opaque("becomes-dir").file("becomes-dir/now", "now a dir\n")  # file -> dir
    change.file("becomes-file", "now a file\n")  # dir -> file
    change.dir("opaque").opaque("opaque").file("opaque/new", "fresh\n")  # opaque replacement
    change.symlink("retarget", "etc/shadow")  # symlink retarget
    change.file("big.bin", _bytes(3, 20000))  # identical copy (touch): same bytes again
    change.file("big-copy.bin", _bytes(3, 20000))
    change.dir("tmp", mode=0o1777)
    change.hardlink("tmp/ls-link", "bin/busybox", mode=0o755)  # hardlink to a lower-layer file

    final = img.layer("RUN rm big files; recreate")
    final.whiteout("big.bin").whiteout("big-copy.bin")
    final.dir("olddir").file("olddir/a.txt", "back again")  # re-create a deleted path
    final.file("etc/passwd", "root:x:0:0::/root:/bin/bash\n", uid=1000, gid=1000)  # owner only
    img.empty('CMD ["sh"]')
    return img


def tiny_image(
    tag: str = "tiny:latest", *, arch: str = "amd64", variant: str | None = None, marker: str = "x"
) -> ImageSpec:
    """Two small layers; ``marker`` makes the content (and digests) distinct."""
    img = ImageSpec(tags=[tag], architecture=arch, variant=variant)
    img.layer("ADD base").dir("etc").file("etc/os", f"tiny {marker}\n")
    img.layer("RUN echo").file("hello.txt", f"hello {marker}\n")
    return img
