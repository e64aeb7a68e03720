"""Text from users and APIs shown as written in Streamlit's Markdown."""

from __future__ import annotations

import re

MARKUP = re.compile(r"([\\`*_\[\]<>#|~$])")


def plain(text: str) -> str:
    """``text`` shown as written in Streamlit's Markdown: file names and API messages are not markup."""
    return MARKUP.sub(r"\\\1", text)
