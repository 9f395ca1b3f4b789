"""``divepy IMAGE`` without a terminal prints a summary instead of the explorer."""

from __future__ import annotations

from pathlib import Path

from tests.clitools import run_divepy

NOTE = b"divepy: not a terminal, so no explorer: printing a summary (--ci, --json or --list choose an output)\n"

DEMO_SUMMARY = """\
Image: divepy-demo:latest (linux/amd64, 8 layers, 596 kB)

This image can lose 214 kB (36% of 596 kB): 154 kB removed by later layers, 60 kB stored again for a mode or owner \
change, 23 B overwritten with other content, 13 B stored again unchanged. (divepy IMAGE --explain shows where, and \
the fixes)

Layers:
  Layer       Size  Command
                    ARG PYTHON_VERSION=3.12
  0         151 kB  FROM c285da21fd5decd
                    CMD ["sh"]
                    ENV PYTHONDONTWRITEBYTECODE=1
  1         201 kB  RUN apk add --no-cache python3 py3-pip
  2           13 B  COPY requirements.txt /app/ # buildkit
  3         109 kB  RUN pip install -r /app/requirements.txt
  4          60 kB  COPY . /app # buildkit
  5          60 kB  RUN chown -R 1000:1000 /app && chmod -R g+w /app
  6           24 B  RUN rm -rf /root/.cache /var/cache/apk/* && sed -i s/true/false/ /app/config.yaml
  7          14 kB  RUN rm -rf /app/static && mkdir -p /app/static /tmp/build && tar -xf /app/assets.tar -C \
/tmp/build && cp /tmp/build/* /…
                    EXPOSE 8080/tcp
                    USER 1000:1000
                    CMD ["/app/main.py"]

Analysis:
  efficiency:        77.23 %
  wastedBytes:       168325 bytes (168 kB)
  userWastedPercent: 37.88 %

Inefficient Files:
  Count  Wasted Space  File Path
  3      60 kB         /app/static/logo.png
  2      48 kB         /var/cache/apk/APKINDEX.0a1b2c3d.tar.gz
  2      36 kB         /app/.git/objects/pack/pack-5d41402abc4b.pack
  3      24 kB         /app/static/app.js
  2      174 B         /app/main.py
  3      70 B          /app/config.yaml
  2      42 B          /app/.git/HEAD
  3      39 B          /app/requirements.txt
"""


def test_piped_run_prints_the_summary_not_escape_codes(tmp_path: Path) -> None:
    res = run_divepy("--demo", cwd=tmp_path)
    assert (res.code, res.stdout) == (0, DEMO_SUMMARY)
    assert res.err.endswith(NOTE)
    assert b"\x1b" not in res.out


def test_quiet_drops_the_note(tmp_path: Path) -> None:
    res = run_divepy("--demo", "-q", cwd=tmp_path)
    assert (res.code, res.err) == (0, b"")
    assert res.stdout == DEMO_SUMMARY


def test_demo_is_not_gated_by_the_ci_variable(tmp_path: Path) -> None:
    """A try-out in a pipeline: the demo fails the rules on purpose, only --ci gates it."""
    res = run_divepy("--demo", "-q", cwd=tmp_path, env={"CI": "true"})
    assert (res.code, res.stdout) == (0, DEMO_SUMMARY)
    gated = run_divepy("--demo", "--ci", cwd=tmp_path, env={"CI": "true"})
    assert gated.code == 1
    assert gated.stdout.endswith("FAIL [fail:2 skip:1]\n")


def test_an_image_is_gated_by_the_ci_variable_and_summarised_without_it(tmp_path: Path) -> None:
    from dive_py.fixtures.demo import DEMO_PATH

    image = DEMO_PATH
    gated = run_divepy(image, cwd=tmp_path, env={"CI": "true"})
    assert gated.code == 1 and "Evaluation:" in gated.stdout and "Layers:" not in gated.stdout
    plain = run_divepy(image, "-q", cwd=tmp_path)
    assert plain.code == 0
    assert "Evaluation:" not in plain.stdout
    assert plain.stdout.splitlines()[0].startswith("Image: ")


ARCHIVE_TABLE = """\
Archive:
  images: 3 (analysed: child:1)
    Image     Platform     Layers       Size     Shared     Unique
    parent:1  linux/amd64       2      245 B      245 B        0 B
  * child:1   linux/amd64       3      356 B      245 B      111 B
    other:2   linux/amd64       2      244 B        0 B      244 B
  stored: 600 B of layers for images adding up to 845 B (shared layers are stored once); archive on disk 20 kB
"""


def test_a_multi_image_archive_lists_its_images_like_docker_system_df(tmp_path: Path) -> None:
    from dive_py.fixtures.builder import write_archive
    from tests.images import tiny_image

    child = tiny_image("child:1")
    child.layer("RUN more").file("more.txt", "more" * 300)
    path = write_archive(
        [tiny_image("parent:1"), child, tiny_image("other:2", marker="o")], tmp_path / "family.tar", "oci"
    )
    res = run_divepy(path, "--image", "child:1")
    assert res.code == 0, res.stderr
    out = res.out.decode()
    assert out[out.index("Archive:") :] == ARCHIVE_TABLE
    ci = run_divepy(path, "--image", "child:1", "--ci", "--no-color")
    assert "  * child:1   linux/amd64       3      356 B      245 B      111 B\n" in ci.out.decode()
