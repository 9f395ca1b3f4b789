"""``--junit FILE``: one JUnit test case per CI rule, for CI systems that show test reports.

Jenkins, GitLab and Azure read this format: a ``<testsuite>`` named after
the image, a ``<testcase>`` per rule, ``<failure>`` with the rule's detail
(and the findings behind it) for a failed rule, ``<skipped>`` for a disabled
one.  ElementTree escapes the text; control characters, which XML 1.0 cannot
hold at all, are shown escaped before they get there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dive_py.core.text import printable
from dive_py.report.ci import FAIL, SKIP, RuleResult


def render_junit(image_name: str, results: list[RuleResult], behind: dict[str, list[str]]) -> bytes:
    """The XML document; ``behind`` holds, per failed divepy rule, the findings that make it fail."""
    suite = ET.Element(
        "testsuite",
        name=f"divepy {printable(image_name)}",
        tests=str(len(results)),
        failures=str(sum(r.status == FAIL for r in results)),
        skipped=str(sum(r.status == SKIP for r in results)),
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="divepy.rules", name=r.name)
        if r.status == FAIL:
            failure = ET.SubElement(case, "failure", message=printable(r.detail))
            lines = behind.get(r.name, [])
            failure.text = "\n".join([printable(r.detail), *(printable(line) for line in lines)])
        elif r.status == SKIP:
            ET.SubElement(case, "skipped", message=printable(r.detail))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


__all__ = ["render_junit"]
