"""Registry credentials the way ``docker login`` left them: ``~/.docker/config.json`` and credential helpers.

Lookup order, as the Docker CLI's: a ``credHelpers`` entry for the host,
then ``credsStore`` (the helper for every host), then ``auths`` (base64
``user:password`` or an ``identitytoken``).  A helper is the program
``docker-credential-NAME``, given the host on stdin and answering JSON with
``Username`` and ``Secret``; one that is missing or fails means "no
credentials", never an error, so an anonymous pull still works.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from dive_py.core.sources.reference import DOCKER_HUB

#: Docker Hub's key in config.json, as ``docker login`` writes it.
HUB_KEY = "https://index.docker.io/v1/"
#: A credential helper must answer within this many seconds.
HELPER_TIMEOUT = 10
#: Bigger than any real config.json: a hostile one is not read whole.
MAX_CONFIG_BYTES = 4 << 20


@dataclass(slots=True, frozen=True)
class Credentials:
    """A user name and password, or an identity token (a refresh token for the token server)."""

    username: str = ""
    password: str = ""
    identity_token: str = ""


def config_dir(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def _read_config(directory: str) -> dict[str, Any]:
    path = os.path.join(directory, "config.json")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return {}
    if len(data) > MAX_CONFIG_BYTES:
        return {}
    try:
        doc = json.loads(data)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _keys_for(host: str) -> list[str]:
    if host == DOCKER_HUB:
        return [HUB_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"]
    return [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]


def _from_helper(name: str, host: str) -> Credentials | None:
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        return None
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None
    server = HUB_KEY if host == DOCKER_HUB else host
    try:
        done = subprocess.run(
            [program, "get"], input=server.encode(), capture_output=True, timeout=HELPER_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        doc = json.loads(done.stdout[:MAX_CONFIG_BYTES])
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    user, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    # The Docker CLI's convention: a helper answers "<token>" as the user for an identity token.
    if user == "<token>":
        return Credentials(identity_token=secret)
    return Credentials(user, secret)


def _from_auths(auths: Any, host: str) -> Credentials | None:
    if not isinstance(auths, dict):
        return None
    for key in _keys_for(host):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        token = entry.get("identitytoken")
        if isinstance(token, str) and token:
            return Credentials(identity_token=token)
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                continue
            if sep:
                return Credentials(user, password)
    return None


def find_credentials(host: str, directory: str | None = None) -> Credentials | None:
    """Credentials for ``host`` (``docker.io`` for Docker Hub), or None: pull anonymously."""
    doc = _read_config(directory or config_dir())
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        for key in _keys_for(host):
            if key in helpers:
                return _from_helper(helpers[key], host)
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        found = _from_helper(store, host)
        if found is not None:
            return found
    return _from_auths(doc.get("auths"), host)


__all__ = ["Credentials", "config_dir", "find_credentials"]
