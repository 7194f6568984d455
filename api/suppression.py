"""Small-count suppression for what a person reads (DESIGN.md principle 3).

A count below ``k`` is shown as the string ``"<k"``; everything else stays a
number so clients can still sort and plot. The API schema types such fields
as ``int | str`` and says so in their descriptions.
"""

from __future__ import annotations

from collections.abc import Mapping


def shown_count(value: int | float | None, *, k: int) -> int | str | None:
    if value is None:
        return None
    count = int(round(value))
    return f"<{k}" if count < k else count


def shown_counts(counts: Mapping[str, int | float | None], *, k: int) -> dict[str, int | str | None]:
    return {name: shown_count(value, k=k) for name, value in counts.items()}
