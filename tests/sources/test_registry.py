"""Pulling from a registry: the real docker-registry (pushed to with skopeo), and a scripted one for the rest."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import tarfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from dive_py.core.sources.credentials import Credentials
from dive_py.core.sources.pull import pull
from dive_py.core.sources.reference import parse_reference
from dive_py.core.sources.registry import Registry, RegistryError
from dive_py.fixtures.builder import write_archive
from dive_py.fixtures.demo import DEMO_PATH
from tests.clitools import run_divepy
from tests.images import tiny_image
from tests.sources.servers import Handler, RealRegistry, Scripted, answer, real_registry, scripted_registry, sha


@pytest.fixture(autouse=True)
def _close_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every Registry a test makes is closed after it (their connection pools hold sockets)."""
    made: list[Registry] = []
    real_init = Registry.__init__

    def init(self: Registry, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(Registry, "__init__", init)
    yield
    for reg in made:
        reg.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRegistry]:
    tmp = tmp_path_factory.mktemp("registry")
    with real_registry(tmp) as reg:
        reg.push(f"docker-archive:{DEMO_PATH}", "demo:latest")
        multi = write_archive(
            [tiny_image("multi:1", marker="a"), tiny_image("multi:1", arch="arm64", marker="r")],
            tmp / "multi.tar",
            "oci",
            platforms=True,
        )
        reg.push(f"oci-archive:{multi}", "multi:1", all_platforms=True)
        yield reg


def json_of(*args: str, cwd: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    res = run_divepy(*args, "--json", "-", "-q", cwd=cwd, env=env)
    assert res.code == 0, res.stderr
    doc: dict[str, object] = json.loads(res.out)
    return doc


def test_a_pulled_image_has_the_archives_figures(registry: RealRegistry, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    pulled = json_of(f"registry://{registry.host}/demo:latest", "--cache-dir", str(cache), cwd=tmp_path)
    local = json_of("--demo", cwd=tmp_path)
    for key in ("image", "insights"):
        assert pulled[key] == local[key], key

    def layers(doc: dict[str, object]) -> list[dict[str, object]]:
        rows = doc["layer"]
        assert isinstance(rows, list)
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]  # id: the blob's name, not a dir's

    assert layers(pulled) == layers(local)  # the same layers in the same order, with the same files and figures
    assert (cache / "blobs" / "sha256").is_dir() and len(list((cache / "images").iterdir())) == 1
    assert list((cache / "tmp").iterdir()) == []  # nothing half-written left


def test_a_second_open_of_a_pulled_image_is_answered_by_the_metadata_cache(
    registry: RealRegistry, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    image = f"registry://{registry.host}/demo:latest"
    first = json_of(image, "--cache-dir", str(cache), cwd=tmp_path)
    assert json_of(image, "--cache-dir", str(cache), cwd=tmp_path) == first
    # One snapshot: opening the image (which marks it used) did not make its layout a new key.
    assert len(list((cache / "meta").rglob("*.meta"))) == 1


def test_a_second_pull_downloads_nothing_and_a_truncated_blob_is_fetched_again(
    registry: RealRegistry, tmp_path: Path
) -> None:
    ref = parse_reference(f"{registry.host}/demo:latest")
    first = pull(Registry(ref), ref, str(tmp_path))
    assert first.downloaded > 0
    again = pull(Registry(ref), ref, str(tmp_path))
    assert (again.layout, again.downloaded) == (first.layout, 0)
    blobs = sorted((tmp_path / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    biggest = blobs[-1]
    os.truncate(biggest, 10)
    third = pull(Registry(ref), ref, str(tmp_path))
    assert third.downloaded == os.path.getsize(biggest) > 10


def test_the_platform_is_chosen_from_the_index(registry: RealRegistry, tmp_path: Path) -> None:
    name = f"registry://{registry.host}/multi:1"
    arm = json_of(name, "--platform", "linux/arm64", "--cache-dir", str(tmp_path), cwd=tmp_path)
    amd = json_of(name, "--platform", "linux/amd64", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert arm["layer"] != amd["layer"]
    res = run_divepy(name, "--platform", "linux/s390x", "--json", "-", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert (res.code, res.out) == (2, b"")
    assert res.stderr == (
        f"divepy: error: {registry.host}/multi:1: no linux/s390x image in the index; "
        "available: linux/amd64, linux/arm64 (choose with --platform)\n"
    )


def test_basic_auth_against_the_real_registry(tmp_path: Path) -> None:
    """htpasswd: anonymous is refused with the docker login to run; the config.json credentials pull."""
    from tests.sources.servers import HTPASSWD_PASSWORD, HTPASSWD_USER

    (tmp_path / "reg").mkdir()
    with real_registry(tmp_path / "reg", htpasswd=True) as reg:
        reg.push(f"docker-archive:{DEMO_PATH}", "demo:latest", creds=f"{HTPASSWD_USER}:{HTPASSWD_PASSWORD}")
        image = f"registry://{reg.host}/demo:latest"
        anonymous = run_divepy(image, "--no-cache", "--ci", cwd=tmp_path, env={"DOCKER_CONFIG": str(tmp_path / "none")})
        assert anonymous.code == 2
        assert anonymous.stderr == (
            f"divepy: error: {reg.host}/demo:latest: authentication required: log in "
            f"(`docker login {reg.host}`) or put credentials in ~/.docker/config.json\n"
        )
        config = tmp_path / "docker"
        config.mkdir()
        pair = base64.b64encode(f"{HTPASSWD_USER}:{HTPASSWD_PASSWORD}".encode()).decode()
        (config / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": pair}}}))
        pulled = json_of(image, "--no-cache", cwd=tmp_path, env={"DOCKER_CONFIG": str(config)})
        assert pulled["image"] == json_of("--demo", cwd=tmp_path)["image"]
        wrong = base64.b64encode(f"{HTPASSWD_USER}:nope".encode()).decode()
        (config / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": wrong}}}))
        refused = run_divepy(image, "--no-cache", "--ci", cwd=tmp_path, env={"DOCKER_CONFIG": str(config)})
        assert refused.code == 2 and "the registry refused these credentials" in refused.stderr


def test_the_bearer_flow_against_the_real_registry(tmp_path: Path) -> None:
    """Token auth: the registry's challenge names the token server, whose signed token the registry accepts."""
    from tests.sources.servers import token_issuer

    (tmp_path / "reg").mkdir()
    with token_issuer(tmp_path) as issuer, real_registry(tmp_path / "reg", token=issuer) as reg:
        reg.push(f"docker-archive:{DEMO_PATH}", "demo:latest", creds="anyone:anything")
        issuer.issued.clear()
        pulled = json_of(f"registry://{reg.host}/demo:latest", "--no-cache", cwd=tmp_path)
        assert pulled["image"] == json_of("--demo", cwd=tmp_path)["image"]
        assert issuer.issued == ["repository:demo:pull"]  # one token, for exactly this repository, pull only


def test_an_unknown_image_is_one_line(registry: RealRegistry, tmp_path: Path) -> None:
    res = run_divepy(f"registry://{registry.host}/nope:1", "--json", "-", "--no-cache", cwd=tmp_path)
    assert (res.code, res.out) == (2, b"")
    assert (
        res.stderr == f"divepy: error: {registry.host}/nope:1: not found in {registry.host} (check the name and tag)\n"
    )


def test_no_cache_leaves_nothing_behind(
    registry: RealRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    res = run_divepy(
        f"registry://{registry.host}/demo:latest",
        "--no-cache",
        "--ci",
        "-q",
        cwd=tmp_path,
        env={"TMPDIR": str(tmp_path)},
    )
    assert res.code == 1, res.stderr  # the demo fails dive's default rules
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo", "--plain-http"], "--plain-http applies to registry images (registry://NAME)"),
        (
            ["--demo", "--no-cache", "--cache-dir", "c"],
            "--cache-dir names the cache and --no-cache turns it off: give one of them",
        ),
        (["registry://Bad/Name"], "'Bad/Name': the repository has 'Bad' (lowercase letters, digits and . _ - only)"),
        (
            ["--source", "registry", "UPPER"],
            "'UPPER': the repository has 'UPPER' (lowercase letters, digits and . _ - only)",
        ),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_divepy(*args, cwd=tmp_path)
    assert (res.code, res.stderr) == (2, f"divepy: error: {message}\n")


# -- the scripted registry: answers a real one never gives ----------------------------------------------------


def layer_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    with scripted_registry() as reg:
        yield reg


def client(reg: Scripted, name: str = "app:1", creds: Credentials | None = None) -> tuple[Registry, object]:
    ref = parse_reference(f"{reg.host}/{name}")
    return Registry(ref, plain_http=True, credentials=creds, sleep=lambda s: None), ref


def test_a_blob_that_does_not_match_its_digest_is_refused_and_not_kept(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer], config=CONFIG)
    scripted.routes[f"/v2/app/blobs/{sha(layer)}"] = (200, {}, layer[:-1] + b"X")  # same size, other bytes
    reg, ref = client(scripted)
    with pytest.raises(RegistryError, match=r"does not match its digest: refused$"):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert not (tmp_path / "blobs" / "sha256" / sha(layer)[7:]).exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_longer_blob_and_a_manifest_of_another_digest_are_refused(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    digest = scripted.image("app", "1", [layer], config=CONFIG)
    scripted.routes[f"/v2/app/blobs/{sha(layer)}"] = (200, {}, layer + b"more")
    reg, ref = client(scripted)
    with pytest.raises(RegistryError, match=r"is longer than the 10,240 bytes its manifest gives$"):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    scripted.routes[f"/v2/app/manifests/{digest}"] = (200, {}, b'{"other": 1}')
    reg2, ref2 = client(scripted, f"app@{digest}")
    with pytest.raises(RegistryError, match=r"has digest sha256:[0-9a-f]{64}: refused$"):
        pull(reg2, ref2, str(tmp_path))  # type: ignore[arg-type]


def test_the_bearer_flow_with_credentials(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("team/app", "1", [layer], config=CONFIG)
    realm = f"http://{scripted.host}/token"

    def hook(h: BaseHTTPRequestHandler) -> bool:
        if h.path.startswith("/token"):
            assert h.headers["Authorization"] == "Basic " + base64.b64encode(b"me:secret").decode()
            assert "scope=repository%3Ateam%2Fapp%3Apull" in h.path and "service=reg" in h.path
            body = b'{"token": "T0K3N"}'
        elif h.headers.get("Authorization") != "Bearer T0K3N":
            challenge = f'Bearer realm="{realm}",service="reg",scope="repository:team/app:pull"'
            return answer(h, 401, {"WWW-Authenticate": challenge})
        else:
            return False
        return answer(h, 200, body=body)

    scripted.hook = hook
    reg, ref = client(scripted, "team/app:1", Credentials("me", "secret"))
    pulled = pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert pulled.downloaded == len(layer) + len(CONFIG)
    token_requests = [p for p, _ in scripted.seen if p.startswith("/token")]
    assert len(token_requests) == 1  # the token is kept for the blobs


def test_anonymous_and_refused_answers(scripted: Scripted, tmp_path: Path) -> None:
    def hook(h: BaseHTTPRequestHandler) -> bool:
        return answer(h, 401, {"WWW-Authenticate": 'Basic realm="x"'})

    scripted.hook = hook
    reg, ref = client(scripted)
    with pytest.raises(RegistryError) as err:
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert str(err.value) == (
        f"{scripted.host}/app:1: authentication required: log in (`docker login {scripted.host}`) "
        "or put credentials in ~/.docker/config.json"
    )
    reg, ref = client(scripted, creds=Credentials("me", "wrong"))
    with pytest.raises(RegistryError, match="refused these credentials"):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]


def test_retries_then_rate_limit(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer], config=CONFIG)
    failures = {"left": 2}

    def flaky(h: BaseHTTPRequestHandler) -> bool:
        if failures["left"] > 0:
            failures["left"] -= 1
            return answer(h, 503)
        return False

    scripted.hook = flaky
    reg, ref = client(scripted)
    assert pull(reg, ref, str(tmp_path)).downloaded > 0  # type: ignore[arg-type]

    def limited(h: BaseHTTPRequestHandler) -> bool:
        return answer(h, 429, {"Retry-After": "1"})

    scripted.hook = limited
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 10:  # an unbounded retry loop ends the test instead of hanging it
            raise AssertionError("retried without end")

    ref = parse_reference(f"{scripted.host}/app:1")
    reg = Registry(ref, plain_http=True, sleep=wait)
    with pytest.raises(RegistryError, match=r"rate limited by the registry: wait, or log in for a higher limit$"):
        pull(reg, ref, str(tmp_path / "again"))
    assert waits == [1.0, 1.0, 1.0, 1.0]  # bounded: RETRIES waits, as Retry-After asks


def test_a_redirect_to_another_host_gets_no_credentials(tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    with scripted_registry() as cdn, scripted_registry() as reg:
        reg.image("app", "1", [layer], config=CONFIG)
        cdn.routes["/blob"] = (200, {}, layer)
        reg.routes[f"/v2/app/blobs/{sha(layer)}"] = (307, {"Location": f"http://{cdn.host}/blob"}, b"")
        reg.hook = lambda h: False
        ref = parse_reference(f"{reg.host}/app:1")
        r = Registry(ref, plain_http=True, credentials=Credentials("me", "pw"))
        r._authorization = "Basic bWU6cHc="  # as after a challenge
        pull(r, ref, str(tmp_path))
        assert [h.get("authorization") for _, h in cdn.seen] == [None]
        assert all(h.get("authorization") == "Basic bWU6cHc=" for _, h in reg.seen)


# -- credentials ------------------------------------------------------------------------------------------------


def test_credentials_from_config_json_and_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dive_py.core.sources.credentials import find_credentials

    conf = tmp_path / "docker"
    conf.mkdir()
    auths = {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hubuser:hubpw").decode()},
        "ghcr.io": {"identitytoken": "refresh-me"},
        "bad.example": {"auth": "!!not base64"},
    }
    (conf / "config.json").write_text(json.dumps({"auths": auths, "credHelpers": {"quay.io": "fake"}}))
    assert find_credentials("docker.io", str(conf)) == Credentials("hubuser", "hubpw")
    assert find_credentials("ghcr.io", str(conf)) == Credentials(identity_token="refresh-me")
    assert find_credentials("bad.example", str(conf)) is None
    assert find_credentials("other.example", str(conf)) is None
    assert find_credentials("quay.io", str(conf)) is None  # the helper is not installed: anonymous
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$1" = get ] && echo "{\\"Username\\": \\"u-$host\\", \\"Secret\\": \\"s\\"}"\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    assert find_credentials("quay.io", str(conf)) == Credentials("u-quay.io", "s")
    (conf / "config.json").write_text(json.dumps({"credsStore": "fake"}))
    assert find_credentials("docker.io", str(conf)) == Credentials("u-https://index.docker.io/v1/", "s")
    (conf / "config.json").write_text("[not an object")
    assert find_credentials("docker.io", str(conf)) is None


def test_an_index_with_one_image_and_an_attestation_opens_that_image(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    digest = scripted.image("app", "arm", [layer], config=CONFIG)
    size = len(scripted.routes[f"/v2/app/manifests/{digest}"][2])
    entries = [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "platform": {"os": "linux", "architecture": "riscv64"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "platform": {"os": "unknown", "architecture": "unknown"},
        },
    ]
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    )
    scripted.routes["/v2/app/manifests/1"] = (
        200,
        {"Content-Type": "application/vnd.oci.image.index.v1+json"},
        index.encode(),
    )
    reg, ref = client(scripted)
    pulled = pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert (pulled.digest, pulled.platform) == (digest, "linux/riscv64")  # the attestation is not an image


def test_a_helper_may_answer_an_identity_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dive_py.core.sources.credentials import find_credentials

    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "tok"}))
    helper = tmp_path / "docker-credential-tok"
    helper.write_text('#!/bin/sh\necho \'{"Username": "<token>", "Secret": "refresh"}\'\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert find_credentials("ghcr.io", str(tmp_path)) == Credentials(identity_token="refresh")


def test_an_identity_token_is_exchanged_with_a_post(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer], config=CONFIG)
    posted: list[str] = []

    def hook(h: BaseHTTPRequestHandler) -> bool:
        if h.path.startswith("/token"):
            assert h.command == "POST"
            posted.append(h.rfile.read(int(h.headers["Content-Length"])).decode())
            return answer(h, 200, body=b'{"access_token": "FROM-REFRESH"}')
        if h.headers.get("Authorization") != "Bearer FROM-REFRESH":
            return answer(h, 401, {"WWW-Authenticate": f'Bearer realm="http://{scripted.host}/token",service="reg"'})
        return False

    scripted.hook = hook
    reg, ref = client(scripted, creds=Credentials(identity_token="refresh-me"))
    pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    (body,) = posted
    assert sorted(body.split("&")) == [
        "client_id=divepy",
        "grant_type=refresh_token",
        "refresh_token=refresh-me",
        "scope=repository%3Aapp%3Apull",
        "service=reg",
    ]


# -- the cache's bounds ---------------------------------------------------------------------------------------


def test_prune_removes_the_least_recently_used_and_only_what_a_pull_wrote(
    registry: RealRegistry, tmp_path: Path
) -> None:
    from dive_py.core.sources.blobcache import cached_images, prune, stored_bytes

    demo = parse_reference(f"{registry.host}/demo:latest")
    multi = parse_reference(f"{registry.host}/multi:1")
    first = pull(Registry(demo), demo, str(tmp_path))
    os.utime(Path(first.layout), (1_000_000, 1_000_000))  # used long ago
    second = pull(Registry(multi), multi, str(tmp_path), platform="linux/amd64")
    mine = tmp_path / "images" / "notes.txt"  # not divepy's: a prune leaves it
    mine.write_text("keep me")
    assert [c.name for c in cached_images(str(tmp_path))] == [str(multi), str(demo)]
    total = stored_bytes(str(tmp_path))
    removed = prune(str(tmp_path), total - 1)  # one byte too many: the oldest image goes
    assert [c.digest for c in removed] == [first.digest]
    assert not Path(first.layout).exists() and Path(second.layout).is_dir()
    assert stored_bytes(str(tmp_path)) < total and mine.read_text() == "keep me"
    res = run_divepy("--cache-list", "--cache-dir", str(tmp_path), cwd=tmp_path)
    lines = res.stdout.splitlines()
    assert res.code == 0 and lines[0].startswith(f"{tmp_path}: 1 image(s), ")
    assert lines[1].endswith(f"…  {multi}")
    res = run_divepy("--cache-prune", "0", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert res.code == 0 and res.stdout.splitlines()[0].startswith(f"removed {multi} (sha256:")
    assert res.stdout.splitlines()[-2:] == [
        f"{tmp_path}: 0 B stored",
        f"{tmp_path / 'meta'}: 0 layer metadata snapshot(s), 0 B stored",
    ]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["notes.txt"]


def test_a_pull_prunes_to_the_cap_but_keeps_what_it_opens(registry: RealRegistry, tmp_path: Path) -> None:
    demo = parse_reference(f"{registry.host}/demo:latest")
    multi = parse_reference(f"{registry.host}/multi:1")
    first = pull(Registry(multi), multi, str(tmp_path), platform="linux/amd64")
    second = pull(Registry(demo), demo, str(tmp_path), max_bytes=1)
    assert not Path(first.layout).exists()  # over the cap: the other image went
    assert (Path(second.layout) / "index.json").is_file()  # this one stays, over the cap or not


def test_cache_commands_take_no_image(tmp_path: Path) -> None:
    res = run_divepy("--cache-list", "--demo", cwd=tmp_path)
    assert (res.code, res.stderr) == (
        2,
        "divepy: error: --cache-list and --cache-prune work on the cache alone; give no IMAGE\n",
    )
    res = run_divepy("--cache-prune", "lots", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert res.code == 2 and res.stderr.startswith("divepy: error: ") and res.stderr.count("\n") == 1


# -- hostile answers (found by a hostile-registry review) ------------------------------------------------------


def hostile_manifest(scripted: Scripted, layers: list[object], config: object | None = None) -> None:
    cfg = (
        config
        if config is not None
        else {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(CONFIG), "size": len(CONFIG)}
    )
    body = json.dumps({"schemaVersion": 2, "config": cfg, "layers": layers}).encode()
    scripted.routes["/v2/app/manifests/1"] = (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body)
    scripted.routes[f"/v2/app/blobs/{sha(CONFIG)}"] = (200, {}, CONFIG)


@pytest.mark.parametrize(
    "digest",
    [
        ("sha256:" + "./" * 30 + "../victim.txt")[:71],
        "sha256:" + "/" * 52 + "/victim.txt/",
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 63 + "\x00",
    ],
    ids=["dot-dot", "absolute", "uppercase", "nul"],
)
def test_a_digest_that_is_not_64_hex_digits_never_becomes_a_path(
    scripted: Scripted, tmp_path: Path, digest: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    hostile_manifest(scripted, [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": 1}])
    reg, ref = client(scripted)
    with pytest.raises(RegistryError, match=r"layers\[0\] has no sha256 digest \(64 lowercase hex digits\)$"):
        pull(reg, ref, str(tmp_path / "cache"))  # type: ignore[arg-type]
    assert victim.read_text() == "mine"


@pytest.mark.parametrize(
    ("size", "message"),
    [(True, "has no valid size"), (1 << 50, "claims 1,125,899,906,842,624 bytes: refused")],
)
def test_sizes_a_manifest_may_not_claim(scripted: Scripted, tmp_path: Path, size: object, message: str) -> None:
    hostile_manifest(
        scripted, [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(b"x"), "size": size}]
    )
    reg, ref = client(scripted)
    with pytest.raises(RegistryError, match=re.escape(message)):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]


def test_a_layer_listed_twice_is_fetched_once(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer, layer], config=CONFIG)
    reg, ref = client(scripted)
    pulled = pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert pulled.downloaded == len(layer) + len(CONFIG)
    assert [p for p, _ in scripted.seen].count(f"/v2/app/blobs/{sha(layer)}") == 1


def test_broken_and_odd_answers_are_one_line(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer], config=CONFIG)
    cases: list[tuple[Handler, str]] = [
        (lambda h: h.path.startswith("/v2/app/blobs/" + sha(layer)) and cut_short(h, layer), "reading from"),
        (lambda h: answer(h, 400, body=b'{"errors": null}'), "the registry answered HTTP 400"),
        (lambda h: answer(h, 400, body=b'{"errors": 5}'), "the registry answered HTTP 400"),
        (lambda h: answer(h, 200, {"Content-Encoding": "gzip"}, b"x"), "a compressed answer although none was asked"),
        (lambda h: answer(h, 302, {"Location": "data:text/plain,hi"}), "failed"),
        (lambda h: answer(h, 401, {"WWW-Authenticate": 'Bearer realm="http://[::1"'}), "failed"),
        (
            lambda h: answer(h, 401, {"WWW-Authenticate": 'Bearer realm="file:///etc/passwd"'}),
            "is not an http(s) address",
        ),
    ]
    for i, (hook, message) in enumerate(cases):
        scripted.hook = hook
        reg, ref = client(scripted)
        with pytest.raises(RegistryError) as err:
            pull(reg, ref, str(tmp_path / str(i)))  # type: ignore[arg-type]
        assert message in str(err.value) and "\n" not in str(err.value), (i, str(err.value))
        assert list((tmp_path / str(i) / "tmp").iterdir()) == []


def cut_short(h: BaseHTTPRequestHandler, blob: bytes) -> bool:
    """Promise the whole blob, send half, close the connection."""
    h.send_response(200)
    h.send_header("Content-Length", str(len(blob)))
    h.end_headers()
    h.wfile.write(blob[: len(blob) // 2])
    h.wfile.flush()
    h.close_connection = True
    h.connection.shutdown(2)
    return True


def test_retry_after_and_tokens_of_other_alphabets(scripted: Scripted, tmp_path: Path) -> None:
    layer = layer_tar("a.txt", b"hello")
    scripted.image("app", "1", [layer], config=CONFIG)
    once = {"left": 1}

    def superscript(h: BaseHTTPRequestHandler) -> bool:
        if once["left"]:
            once["left"] = 0
            return answer(h, 503, {"Retry-After": "\u00b2"})  # isdigit() but not a number float() reads
        return False

    scripted.hook = superscript
    reg, ref = client(scripted)
    assert pull(reg, ref, str(tmp_path / "a")).downloaded > 0  # type: ignore[arg-type]

    def token(h: BaseHTTPRequestHandler) -> bool:
        if h.path.startswith("/token"):
            return answer(h, 200, body='{"token": "tök€"}'.encode())
        return answer(h, 401, {"WWW-Authenticate": f'Bearer realm="http://{scripted.host}/token"'})

    scripted.hook = token
    reg, ref = client(scripted)
    with pytest.raises(RegistryError, match=r"the token server sent no usable token$"):
        pull(reg, ref, str(tmp_path / "b"))  # type: ignore[arg-type]


def test_a_digest_that_cannot_be_verified_is_refused(scripted: Scripted, tmp_path: Path) -> None:
    reg, ref = client(scripted, "app@sha512:" + "0" * 128)
    with pytest.raises(RegistryError, match=r"only sha256 digests can be verified$"):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]


def test_a_trickling_answer_is_cut_off(scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dive_py.core.sources import registry as module

    monkeypatch.setattr(module, "SMALL_DEADLINE", 0.5)

    def trickle(h: BaseHTTPRequestHandler) -> bool:
        h.protocol_version = "HTTP/1.0"  # no length: the body ends when the server says so
        h.send_response(200)
        h.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        h.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(200):  # each byte well within the read timeout; the whole (10 s) far beyond the deadline
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.05)
        return True

    scripted.hook = trickle
    reg, ref = client(scripted)
    start = time.monotonic()
    with pytest.raises(RegistryError, match=r"the manifest did not arrive within 0 s$"):
        pull(reg, ref, str(tmp_path))  # type: ignore[arg-type]
    assert time.monotonic() - start < 5  # cut off at the deadline, not when the sender stops
