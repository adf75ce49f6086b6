"""Which way a document goes through the clerical desk.

``incoming`` (văn bản đến): received, registered in the Sổ đăng ký văn bản
đến under the Số đến of its label; ``outgoing`` (văn bản đi): signed here and
sent, registered in the Sổ đăng ký văn bản đi under its own number
(Decree 30/2020, Phụ lục IV). Every batch is one or the other
(docs/outgoing.md).
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["incoming", "outgoing"]
DIRECTIONS: tuple[Direction, ...] = ("incoming", "outgoing")
#: the words on the screens and in exports, Vietnamese then English
WORDS: dict[str, tuple[str, str]] = {
    "incoming": ("Văn bản đến", "Incoming"),
    "outgoing": ("Văn bản đi", "Outgoing"),
}
