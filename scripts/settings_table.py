"""Rewrite the configuration table in README.md from src/ustad/settings.py."""

from __future__ import annotations

import re
from pathlib import Path

from ustad.settings import settings_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{settings_table()}\n{END}"
    README.write_text(
        re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
