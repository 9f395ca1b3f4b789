"""Hostile command lines: extraction destinations, flags, settings files, output targets, forged text."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson

from tests.helpers import config_doc, raw_member
from tests.hostile import layers as L
from tests.hostile.archives import docker_members, image_in, oci_members, raw_archive
from tests.hostile.harness import Outcome
from tests.hostile.model import CONTROL, Case, Expect, fails

DEST = "destination"
FILE = ["--demo", "--extract", "/app/main.py", "-o"]
DIR = ["--demo", "--extract", "/app", "-o"]
EXISTS = r"already exists; name a new file or directory"


def _args(*args: str) -> Callable[[Path], list[str]]:
    return lambda box: list(args)


def _refused(name: str, args: list[str], message: str) -> Case:
    return Case(name, DEST, _args(*args), fails(message), ("raw",))


def _made(name: str, args: list[str], creates: str, check: Callable[[Outcome, Path], None] | None = None) -> Case:
    return Case(name, DEST, _args(*args), Expect(0, creates=(creates,), check=check), ("raw",))


def _is_main_py(path: str) -> Callable[[Outcome, Path], None]:
    def check(out: Outcome, box: Path) -> None:
        assert (box / path).read_bytes().startswith(b"")
        assert (box / path).is_file() and (box / path).stat().st_size == 87

    return check


def _cut_mid_extraction(box: Path) -> list[str]:
    """A directory whose third file has a 300-byte name: the write fails after two files."""
    return [image_in(box, [L.good(), L.long_component(300)]), "--extract", "/d", "-o", "out"]


DESTINATIONS: list[Case] = [
    _refused("dest-empty", [*FILE, ""], r"--output: the destination is empty"),
    _refused("dest-dot", [*FILE, "."], r"'\.' names an existing directory"),
    _refused("dest-dotdot", [*FILE, ".."], r"'\.\.' names an existing directory"),
    _refused("dest-root-for-a-file", [*FILE, "/"], r"a trailing '/' names a directory, but this is a file"),
    _made("dest-tilde-is-a-plain-name", [*FILE, "~"], "~", _is_main_py("~")),
    _refused("dest-existing-file", [*FILE, "mine.txt"], EXISTS),
    _refused("dest-existing-file-slash", [*FILE, "mine.txt/"], r"a trailing '/' names a directory"),
    _refused("dest-under-a-file", [*FILE, "mine.txt/x"], r"the parent mine.txt is not a directory"),
    _refused("dest-existing-dir", [*FILE, "keep"], EXISTS),
    _refused("dest-existing-dir-slash", [*FILE, "keep/"], r"a trailing '/' names a directory"),
    _refused("dest-existing-file-in-dir", [*FILE, "keep/inner.txt"], EXISTS),
    _made("dest-new-file-in-existing-dir", [*FILE, "keep/new.py"], "keep/new.py", _is_main_py("keep/new.py")),
    _refused("dest-symlink", [*FILE, "link"], EXISTS),
    _refused("dest-symlink-slash", [*FILE, "link/"], r"a trailing '/' names a directory"),
    _refused("dest-dangling-symlink", [*FILE, "dangling"], EXISTS),
    _refused("dest-dangling-symlink-slash", [*FILE, "dangling/"], r"a trailing '/' names a directory"),
    _refused("dest-under-dangling-symlink", [*FILE, "dangling/x"], r"the parent dangling does not exist"),
    _refused("dest-under-symlink-to-file", [*FILE, "link/x"], r"the parent link is not a directory"),
    _refused("dest-fifo", [*FILE, "pipe"], EXISTS),
    _refused(
        "dest-dotdot-through-missing-onto-dir", [*FILE, "nosuch/../keep"], r"the parent nosuch/\.\. does not exist"
    ),
    _refused("dest-dotdot-through-missing-new", [*FILE, "nosuch/../new"], r"the parent nosuch/\.\. does not exist"),
    _refused("dest-dotdot-onto-existing-file", [*FILE, "keep/../mine.txt"], EXISTS),
    _made("dest-dotdot-through-real-dir", [*FILE, "keep/../fresh.py"], "fresh.py", _is_main_py("fresh.py")),
    _refused("dest-missing-parents", [*FILE, "no/such/dir/x"], r"the parent no/such/dir does not exist"),
    _refused("dest-name-too-long", [*FILE, "n" * 300], r"cannot create n+: File name too long"),
    _refused("dest-system-file", [*FILE, "/etc/passwd"], EXISTS),
    _made("dest-default-name", ["--demo", "--extract", "/app/main.py"], "main.py", _is_main_py("main.py")),
    _refused("dir-dest-empty", [*DIR, ""], r"the destination is empty"),
    _refused("dir-dest-dot", [*DIR, "."], r"'\.' names an existing directory"),
    _refused("dir-dest-dot-slash", [*DIR, "./"], r"'\.' names an existing directory"),
    _refused("dir-dest-dotdot", [*DIR, ".."], r"'\.\.' names an existing directory"),
    _refused("dir-dest-root", [*DIR, "/"], r"--output /: that is the root directory"),
    _refused("dir-dest-slashes", [*DIR, "///"], r"that is the root directory"),
    _refused("dir-dest-existing-dir", [*DIR, "keep"], EXISTS),
    _refused("dir-dest-existing-dir-slash", [*DIR, "keep/"], EXISTS),
    _refused("dir-dest-existing-file-slash", [*DIR, "mine.txt/"], EXISTS),
    _refused("dir-dest-symlink-slash", [*DIR, "link/"], EXISTS),
    _refused("dir-dest-dangling-symlink", [*DIR, "dangling"], EXISTS),
    _refused("dir-dest-dangling-symlink-slash", [*DIR, "dangling/"], EXISTS),
    _refused("dir-dest-fifo-slash", [*DIR, "pipe/"], EXISTS),
    _refused("dir-dest-dotdot-through-missing", [*DIR, "nosuch/../keep"], r"the parent nosuch/\.\. does not exist"),
    _made("dir-dest-new-with-slash", [*DIR, "newdir/"], "newdir"),
    _made("dir-dest-new-with-slashes", [*DIR, "newdir//"], "newdir"),
    _made("dir-dest-dotdot-through-real-dir", [*DIR, "keep/../made"], "made"),
    _made("dir-dest-default-name", ["--demo", "--extract", "/app"], "app"),
    _made("whole-filesystem-default-name", ["--demo", "--extract", "/"], "rootfs"),
    _refused("dir-to-stdout", [*DIR, "-"], r"/app is not a regular file; only files can be written to stdout"),
    _refused("default-destination-exists", ["--demo", "--extract", "/app/main.py", "-o", "keep/inner.txt"], EXISTS),
    Case(
        "failure-mid-extraction-removes-only-its-own",
        DEST,
        _cut_mid_extraction,
        fails(r"cannot write .*: File name too long"),
        ("raw",),
    ),
]


def _dive_ci(content: bytes, *args: str) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        (box / ".dive-ci").write_bytes(content)
        return ["--demo", "--ci", *args]

    return build


def _ui_config(content: bytes) -> Callable[[Path], list[str]]:
    def build(box: Path) -> list[str]:
        (box / "bad.yaml").write_bytes(content)
        return ["--demo", "-c", "bad.yaml"]

    return build


def _image_fifo(box: Path) -> list[str]:
    return ["pipe"]


def _symlink_loop(box: Path) -> list[str]:
    os.symlink("loop-b", box / "loop-a")
    os.symlink("loop-a", box / "loop-b")
    return ["loop-a"]


USAGE = "traceback"
FLAGS: list[Case] = [
    Case(
        "flag-layer-not-a-number",
        USAGE,
        _args("--demo", "--list", "--layer", "abc"),
        fails(r"invalid value for '--layer'.*\(see divepy --help\)$"),
        ("raw",),
    ),
    Case("flag-misspelt", USAGE, _args("--demo", "--jsno", "-"), fails(r"no such option: --jsno"), ("raw",)),
    Case("flag-extra-arguments", USAGE, _args("a.tar", "b.tar"), fails(r"got unexpected extra argument"), ("raw",)),
    Case(
        "flag-missing-value", USAGE, _args("--demo", "--json"), fails(r"option '--json' requires an argument"), ("raw",)
    ),
    Case(
        "image-superscript-two",
        USAGE,
        _args("--demo", "--image", "²"),
        fails(r"--image ²: no such image in the archive"),
        ("raw",),
    ),
    Case(
        "image-index-of-30-digits",
        USAGE,
        _args("--demo", "--image", "9" * 30),
        fails(r"--image 9+: the archive holds 1 image\(s\) \(0\.\.0\)"),
        ("raw",),
    ),
    Case(
        "image-index-of-5000-digits",
        USAGE,
        _args("--demo", "--image", "7" * 5000),  # int() stops at 4300
        fails(r"--image 7+: the archive holds 1 image\(s\) \(0\.\.0\)"),
        ("raw",),
    ),
    Case("platform-empty", USAGE, _args("--demo", "--platform", ""), fails(r"--platform needs a value"), ("raw",)),
    Case(
        "format-unknown",
        USAGE,
        _args("--demo", "--list", "--format", "xml"),
        fails(r"--format xml: expected text or jsonl"),
        ("raw",),
    ),
    Case(
        "source-engine",
        USAGE,
        _args("--demo", "--source", "docker"),
        fails(r"--demo opens the shipped archive; it takes no --source docker"),
        ("raw",),
    ),
    Case(
        "layer-negative",
        USAGE,
        _args("--demo", "--list", "--layer", "-1"),
        fails(r"--layer -1: the image has layers 0\.\.7"),
        ("raw",),
    ),
    Case(
        "layer-of-30-digits",
        USAGE,
        _args("--demo", "--list", "--layer", "9" * 30),
        fails(r"--layer 9+: the image has layers 0\.\.7"),
        ("raw",),
    ),
    Case(
        "ci-config-missing",
        USAGE,
        _args("--demo", "--ci", "--ci-config", "nope.yaml"),
        fails(r"nope.yaml: CI config file not found"),
        ("raw",),
    ),
    Case(
        "ci-config-not-utf8",
        USAGE,
        _dive_ci(b"rules:\n  lowestEfficiency: \xff\xfe\n"),
        fails(r"\.dive-ci: CI config is not UTF-8 text"),
        ("raw",),
    ),
    Case("ci-config-2-mib", USAGE, _dive_ci(b"#" * (2 << 20)), fails(r"over divepy's limit of 1 MiB"), ("raw",)),
    Case(
        "ci-config-nested-deep",
        USAGE,
        _dive_ci(b"[" * 20000),
        fails(r"\.dive-ci: CI config is (nested too deeply|not valid YAML)"),
        ("raw",),
    ),
    Case(
        "ci-config-is-a-fifo",
        "hang",
        _args("--demo", "--ci", "--ci-config", "pipe"),
        fails(r"pipe: CI config is not a regular file"),
        ("raw",),
    ),
    Case(
        "ci-config-is-a-directory",
        USAGE,
        _args("--demo", "--ci", "--ci-config", "keep"),
        fails(r"keep: CI config is not a regular file"),
        ("raw",),
    ),
    Case(
        "ui-config-not-utf8",
        USAGE,
        _ui_config(b"keybinding:\n  quit: \xff\n"),
        fails(r"bad.yaml: config is not UTF-8 text"),
        ("explorer",),
    ),
    Case(
        "json-to-dev-full",
        USAGE,
        _args("--demo", "--no-ci", "--json", "/dev/full"),
        fails(r"--json /dev/full: cannot write \(No space left on device\)"),
        ("raw",),
    ),
    Case(
        "json-to-a-fifo-without-reader",
        "hang",
        _args("--demo", "--no-ci", "--json", "pipe"),
        fails(r"--json pipe: it is a fifo and nothing is reading it"),
        ("raw",),
    ),
    Case(
        "json-under-a-file",
        USAGE,
        _args("--demo", "--no-ci", "--json", "mine.txt/x.json"),
        fails(r"directory mine.txt does not exist"),
        ("raw",),
    ),
    Case(
        "json-onto-a-directory", USAGE, _args("--demo", "--no-ci", "--json", "keep"), fails(r"is a directory"), ("raw",)
    ),
    Case(
        "json-empty-name", USAGE, _args("--demo", "--no-ci", "--json", ""), fails(r"the file name is empty"), ("raw",)
    ),
    Case(
        "json-stdout-full",
        USAGE,
        _args("--demo", "--no-ci", "--json", "-"),
        fails(r"cannot write --json - to standard output \(No space left on device\)"),
        ("raw",),
        stdout_to="/dev/full",
    ),
    Case(
        "list-stdout-full",
        USAGE,
        _args("--demo", "--list"),
        fails(r"cannot write the listing to standard output \(No space left on device\)"),
        ("raw",),
        stdout_to="/dev/full",
    ),
    Case(
        "ci-report-stdout-full",
        USAGE,
        _args("--demo", "--ci"),
        fails(r"cannot write the CI report to standard output"),
        ("raw",),
        stdout_to="/dev/full",
    ),
    Case(
        "summary-stdout-full",
        USAGE,
        _args("--demo", "-q"),
        fails(r"cannot write the summary to standard output"),
        ("raw",),
        stdout_to="/dev/full",
    ),
    Case("image-is-a-fifo", "hang", _image_fifo, fails(r"pipe is not a regular file"), ("raw", "explorer")),
    Case("image-is-dev-zero", "hang", _args("/dev/zero"), fails(r"/dev/zero is not a regular file"), ("raw",)),
    Case("image-empty-name", USAGE, _args(""), fails(r"missing IMAGE"), ("raw",)),
    Case(
        "image-symlink-loop",
        USAGE,
        _symlink_loop,
        fails(r"loop-a: cannot open \(Too many levels of symbolic links\)"),
        ("raw",),
    ),
    Case("image-dangling-symlink", USAGE, _args("dangling"), fails(r"dangling: no such file or directory"), ("raw",)),
    Case(
        "image-engine-reference",
        USAGE,
        _args("docker://alpine"),
        fails(r"alpine: (no Docker engine answered|not an image of Docker)"),
        ("raw",),
    ),
]

# -- forged text: whatever the image says must stay on its line ------------------------------

FORGED = "evil\ndivepy: error: forged line\r\x1b[2J\x1b]0;title\x07\x00end"


def _tagged(box: Path) -> list[str]:
    return [raw_archive(box, docker_members([L.good()], tags=[FORGED + ":1"]))]


def _os_named(box: Path) -> list[str]:
    cfg = config_doc([L.good()], os=FORGED)
    return [raw_archive(box, docker_members([L.good()], config=orjson.dumps(cfg)))]


def _platform_named(box: Path) -> list[str]:
    def index(digest: str, size: int, put: object) -> object:
        return {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": size,
                    "platform": {"os": FORGED, "architecture": "amd64"},
                },
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": size,
                    "platform": {"os": "linux", "architecture": FORGED},
                },
            ],
        }

    return [raw_archive(box, oci_members([(L.good(), "application/vnd.oci.image.layer.v1.tar")], index=index))]


def _digest_forged(box: Path) -> list[str]:
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + FORGED, "size": 1}
        ],
    }
    return [raw_archive(box, oci_members([(L.good(), "application/vnd.oci.image.layer.v1.tar")], index=index))]


def _command_forged(box: Path) -> list[str]:
    cfg = config_doc([L.good()], history=[{"created_by": "/bin/sh -c " + FORGED}])
    return [raw_archive(box, docker_members([L.good()], config=orjson.dumps(cfg), tags=[FORGED + ":1"]))]


def _names_forged(box: Path) -> list[str]:
    names = [FORGED.replace("\x00", "").replace("/", "|"), "[/]", "[bold]x[/bold]", "\u202eevil", "tab\tname"]
    layer = b"".join(raw_member(n.encode(), b"v1") for n in names) + bytes(1024)
    again = b"".join(raw_member(n.encode(), b"v2") for n in names) + bytes(1024)
    return [image_in(box, [L.good(), layer, again])]


def _broken_hardlink_forged(box: Path) -> list[str]:
    bad = raw_member(b"h\x1b[2Jx\ndivepy: error: forged", b"", b"1", link=b"nope\rx") + bytes(1024)
    return [image_in(box, [L.good(), bad])]


def _no_forged_line(out: Outcome, box: Path) -> None:
    if out.stdout.startswith(b"\x1b["):  # the explorer: the image's own escape sequences must not reach it
        assert b"\x1b]0;title" not in out.stdout and b"forged line\r" not in out.stdout
        return
    for stream in (out.stderr, out.stdout.decode("utf-8", "replace")):
        assert "\ndivepy: error: forged" not in stream, "a forged line reached the output"
        assert not CONTROL.search(stream.replace("\n", "").replace("\t", "")) or stream.startswith("{")


def _forged(
    name: str, build: Callable[[Path], list[str]], expect: Expect | dict[str, Expect], modes: tuple[str, ...]
) -> Case:
    return Case(name, "escaping", build, expect, modes)


ESCAPING: list[Case] = [
    _forged("tag-forges-a-line-summary", _tagged, Expect(0, check=_no_forged_line), ("summary", "json", "explorer")),
    _forged(
        "tag-forges-a-line-unknown-image",
        lambda box: [*_tagged(box), "--image", "x:1"],
        fails(r"--image x:1: no such image in the archive; available: evil\\ndivepy: error: forged line\\r\\x1b"),
        ("raw",),
    ),
    _forged(
        "os-forges-a-line-platform",
        lambda box: [*_os_named(box), "--platform", "linux/arm64"],
        fails(r"--platform linux/arm64: this image is evil\\ndivepy"),
        ("raw",),
    ),
    _forged(
        "index-platforms-forge-a-line",
        lambda box: [*_platform_named(box), "--platform", "linux/s390x"],
        fails(r"available: evil\\ndivepy: error: forged line"),
        ("raw",),
    ),
    _forged(
        "digest-forges-a-line",
        _digest_forged,
        fails(r"invalid digest 'sha256:evil\\ndivepy"),
        ("json", "list", "explorer"),
    ),
    _forged(
        "command-forges-a-line",
        _command_forged,
        Expect(0, check=_no_forged_line),
        ("summary", "ci", "json", "explorer"),
    ),
    _forged(
        "file-names-forge-lines",
        _names_forged,
        {
            "ci": Expect(-1, check=_no_forged_line),
            "*": Expect(0, check=_no_forged_line),
            "extract": Expect(0, creates=("out",), check=_no_forged_line),
        },
        ("ci", "list", "json", "summary", "extract", "explorer"),
    ),
    _forged(
        "hardlink-error-forges-a-line",
        _broken_hardlink_forged,
        fails(r"hardlink /h\\x1b\[2Jx\\ndivepy: error: forged points to /nope\\rx, which does not exist"),
        ("json", "ci", "list", "explorer"),
    ),
    _forged(
        "hardlink-warning-forges-a-line",
        lambda box: [*_broken_hardlink_forged(box), "-i"],
        {"*": Expect(0, check=_no_forged_line), "ci": Expect(-1, check=_no_forged_line)},
        ("json", "ci"),
    ),
]

CASES: list[Case] = [*DESTINATIONS, *FLAGS, *ESCAPING]
