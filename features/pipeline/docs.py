"""Generate the catalogue section of docs/features.md from the catalogue.

Run ``python -m features.pipeline.docs`` after changing the catalogue; a test
fails while the document is stale, so the docs cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from features.catalogue import catalogue

START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def catalogue_markdown(period: str = "week") -> str:
    """The catalogue as a Markdown table, one family after another."""
    lines = ["| name | family | window | definition | reads |", "| --- | --- | --- | --- | --- |"]
    for spec in catalogue(period):  # type: ignore[arg-type]
        window = "" if spec.window is None else f"{spec.window} {period}{'s' if spec.window > 1 else ''}"
        missing = f" *NaN: {spec.missing}.*" if spec.missing else ""
        reads = ", ".join(f"`{r}`" for r in spec.reads) or "(calendar)"
        lines.append(f"| `{spec.name}` | {spec.family} | {window} | {spec.definition}{missing} | {reads} |")
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """Replace the generated section of ``text`` with the current catalogue."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{catalogue_markdown('week')}{END}{tail}"


def main() -> int:
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the catalogue ({len(catalogue('week'))} features) into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
