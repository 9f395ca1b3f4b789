"""Image names parsed as ``docker pull`` parses them (Docker Hub's rules), and refused with the reason."""

from __future__ import annotations

import pytest

from dive_py.core.sources.reference import Reference, parse_reference
from dive_py.errors import UsageError


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("nginx", Reference("docker.io", "library/nginx", "latest", None)),
        ("nginx:1.27", Reference("docker.io", "library/nginx", "1.27", None)),
        ("user/app", Reference("docker.io", "user/app", "latest", None)),
        ("docker.io/nginx", Reference("docker.io", "library/nginx", "latest", None)),
        ("index.docker.io/library/nginx:1", Reference("docker.io", "library/nginx", "1", None)),
        ("localhost/app", Reference("localhost", "app", "latest", None)),
        ("localhost:5000/team/app:v2", Reference("localhost:5000", "team/app", "v2", None)),
        ("127.0.0.1:5000/app", Reference("127.0.0.1:5000", "app", "latest", None)),
        ("[::1]:5000/app:x", Reference("[::1]:5000", "app", "x", None)),
        ("ghcr.io/org/sub/app:1.0-rc_1", Reference("ghcr.io", "org/sub/app", "1.0-rc_1", None)),
        ("my_user/a__b-c.d", Reference("docker.io", "my_user/a__b-c.d", "latest", None)),
        (
            "quay.io/app@sha256:" + "a" * 64,
            Reference("quay.io", "app", None, "sha256:" + "a" * 64),
        ),
        (
            "app:v1@sha256:" + "b" * 64,
            Reference("docker.io", "library/app", "v1", "sha256:" + "b" * 64),
        ),
    ],
)
def test_names_as_docker_reads_them(text: str, want: Reference) -> None:
    assert parse_reference(text) == want


def test_api_host_reference_and_text() -> None:
    hub = parse_reference("nginx")
    assert (hub.api_host, hub.reference, str(hub)) == (
        "registry-1.docker.io",
        "latest",
        "docker.io/library/nginx:latest",
    )
    pinned = parse_reference("localhost:5000/app:v1@sha256:" + "c" * 64)
    assert pinned.api_host == "localhost:5000"
    assert pinned.reference == "sha256:" + "c" * 64  # the digest wins over the tag
    assert str(pinned) == "localhost:5000/app:v1@sha256:" + "c" * 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "an empty image name"),
        ("Nginx", "'Nginx': the repository has 'Nginx' (lowercase letters, digits and . _ - only)"),
        ("a//b", "'a//b': the repository has an empty path component"),
        ("app:", "'app:': '' is not a valid tag"),
        ("app:-x", "'app:-x': '-x' is not a valid tag"),
        ("app@md5", "'app@md5': 'md5' is not a digest (expected ALGORITHM:HEX)"),
        ("app@sha256:xyz", "'app@sha256:xyz': 'sha256:xyz' is not a digest (expected ALGORITHM:HEX)"),
        ("host:99999/app", "'host:99999/app': 'host:99999' is not a registry host"),
        ("bad_host.io/app", "'bad_host.io/app': 'bad_host.io' is not a registry host"),
        ("a.b__c/x", "'a.b__c/x': 'a.b__c' is not a registry host"),  # a "." makes it a host, as in docker
        ("a/" + "b" * 300, "the repository name is longer than 255 characters"),
        ("x" * 600, "the image name is too long"),
        ("app\x1b[2J", "(lowercase letters, digits and . _ - only)"),
    ],
)
def test_bad_names_are_one_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_reference(text)
    assert message in str(err.value) and "\n" not in str(err.value)
