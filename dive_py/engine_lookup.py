"""Find an image in the Docker or Podman engine, and say in one line what was tried when none has it.

An explicitly named endpoint (``DOCKER_HOST``, a docker context,
``CONTAINER_HOST``) is the only one tried; otherwise the default sockets
are, and a default place with no socket is skipped.  A bare ``NAME`` asks
Docker first, then Podman; the first engine that has the image wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dive_py.core.oci.selection import normalise_platform, platform_matches
from dive_py.core.sources.endpoints import DOCKER, ENGINE_NAMES, PODMAN, Endpoint, endpoints_for
from dive_py.core.sources.engine import Engine, EngineSource, EngineUnavailable
from dive_py.core.text import printable
from dive_py.errors import InputError, UsageError
from dive_py.source_args import AUTO


@dataclass(slots=True)
class _Tried:
    """What each engine said, for the one line that ends a failed lookup."""

    missing_sockets: dict[str, list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    without_image: list[str] = field(default_factory=list)

    def summary(self, engines: list[str]) -> str:
        parts = list(self.failures)
        for engine in engines:
            places = self.missing_sockets.get(engine, [])
            if places:
                more = f" (nor {len(places) - 1} other usual places)" if len(places) > 1 else ""
                parts.append(f"{ENGINE_NAMES[engine]}: no socket at {places[0]}{more}")
        return "; ".join(parts)


def connect(endpoint: Endpoint) -> Engine:
    """An engine that answered ``/version`` (raises :class:`EngineUnavailable` when it did not)."""
    engine = Engine(endpoint)
    try:
        engine.ping()
    except BaseException:
        engine.close()
        raise
    return engine


def answering(engines: list[str], tried: _Tried) -> list[Engine]:
    """Every endpoint of ``engines`` that answers, in order (the caller closes them)."""
    out: list[Engine] = []
    for kind in engines:
        for endpoint in endpoints_for(kind):
            if endpoint.guessed and endpoint.socket is not None and not os.path.exists(endpoint.socket):
                tried.missing_sockets.setdefault(kind, []).append(printable(endpoint.socket))
                continue
            try:
                out.append(connect(endpoint))
            except EngineUnavailable as exc:
                tried.failures.append(exc.message)
    return out


def find_engine_image(name: str, engine: str, platform: str | None = None) -> EngineSource:
    """The image ``name`` in ``engine`` (DOCKER, PODMAN or AUTO) as a source the loader opens."""
    kinds = [DOCKER, PODMAN] if engine == AUTO else [engine]
    tried = _Tried()
    shown = printable(name)
    found: EngineSource | None = None
    engines = answering(kinds, tried)
    try:
        for client in engines:
            info = client.inspect(name)
            if info is None:
                tried.without_image.append(client.where)
                continue
            found = EngineSource(client, name, info, platform)
            break
    finally:
        for client in engines:
            if found is None or client is not found.engine:
                client.close()
    if found is not None:
        _check_platform(found, platform)
        return found
    prefix = f"{shown}: no such file or directory, and" if engine == AUTO else f"{shown}:"
    if tried.without_image:
        where = " nor ".join(tried.without_image)
        cli = "podman" if kinds == [PODMAN] else "docker"
        raise InputError(
            f"{prefix} not an image of {where}; `{cli} pull {shown}` first, or read it from its registry: "
            f"registry://{shown}"
        )
    what = " or ".join(ENGINE_NAMES[k] for k in kinds)
    raise InputError(
        f"{prefix} no {what} engine answered ({tried.summary(kinds)}); "
        f"start one, or read the image from its registry: registry://{shown}"
    )


def pick_local_image(engine: str | None) -> str | None:
    """``divepy`` alone on a terminal: pick one of the engines' images; ``KIND://NAME``, or None (the user left)."""
    from dive_py.viewmodel.engine_images import picker_rows

    kinds = [DOCKER, PODMAN] if engine in (None, AUTO) else [engine]
    tried = _Tried()
    clients = answering(kinds, tried)
    what = " or ".join(ENGINE_NAMES[k] for k in kinds)
    start = "give an image archive, an image name or registry://NAME, or try --demo"
    try:
        if not clients:
            raise UsageError(
                f"missing IMAGE: no {what} engine answered to pick an image from ({tried.summary(kinds)}); {start}"
            )
        listed = [(client.name, client.images()) for client in clients]
        wheres = [client.where for client in clients]
        kinds_of = [client.endpoint.engine for client in clients]
    finally:
        for client in clients:
            client.close()
    rows = picker_rows(listed)
    if not rows:
        where = " and ".join(wheres)
        raise UsageError(f"missing IMAGE: {where} holds no images to pick from (`docker pull NAME` one); {start}")
    from dive_py.ui.picker import pick  # the picker is Textual: imported only when it is shown

    chosen = pick(rows, " · ".join(wheres))
    if chosen is None:
        return None
    return f"{kinds_of[chosen.engine]}://{chosen.name}"


def _check_platform(source: EngineSource, platform: str | None) -> None:
    """An engine that exports one platform only must hold the one asked for."""
    if platform is None or source.engine.api_version >= (1, 48):
        return  # the export is asked for that platform; the loader checks what arrives
    wanted = normalise_platform(platform)
    have = source.info.platform
    if not platform_matches(wanted, have):
        source.close()
        raise UsageError(f"--platform {wanted}: {source.engine.where} holds {printable(source.name)} for {have}")


__all__ = ["answering", "connect", "find_engine_image", "pick_local_image"]
