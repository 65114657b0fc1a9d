#!/usr/bin/env python3
"""Checks that every ```cpp block in README.md is compiled code.

Each block must equal (up to common indentation) a region of an examples/*.cpp file marked
`// [README:name]` ... `// [/README]`. Examples are built in CI, so the README's code compiles.
Exit 0 when every block is found, 1 otherwise (listing the blocks that are not).
"""
import pathlib
import re
import sys
import textwrap

root = pathlib.Path(__file__).resolve().parent.parent


def normalise(code: str) -> str:
    lines = [line.rstrip() for line in textwrap.dedent(code).strip("\n").splitlines()]
    return "\n".join(lines)


regions = {}
for path in sorted((root / "examples").glob("*.cpp")):
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"// \[README:([\w-]+)\]\n(.*?)\n[ \t]*// \[/README\]", text, re.S):
        regions[normalise(match.group(2))] = f"{path.name}:{match.group(1)}"

readme = (root / "README.md").read_text(encoding="utf-8")
blocks = re.findall(r"```cpp\n(.*?)```", readme, re.S)
missing = [block for block in blocks if normalise(block) not in regions]
for block in missing:
    first = normalise(block).splitlines()[0] if block.strip() else "(empty)"
    print(f"README.md: a cpp block is not a marked region of examples/*.cpp: {first!r}")
print(f"{len(blocks) - len(missing)} passed, {len(missing)} failed")
sys.exit(1 if missing else 0)
