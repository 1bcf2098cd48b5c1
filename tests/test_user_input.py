"""User input made into what the model reads (core/user_input.py): what the app-server tests do
not reach cheaply — image kinds by their bytes and an image over the size limit."""

from __future__ import annotations

import os
from pathlib import Path

from codex_engine.core.user_input import MAX_IMAGE_BYTES, image_mime, load_image, prepare_input
from codex_engine.protocol.user_input import IMAGE_NOT_PROCESSED, LocalImageInput


def test_image_kinds_are_told_by_their_bytes() -> None:
    assert image_mime(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert image_mime(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert image_mime(b"GIF89a....") == "image/gif"
    assert image_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_mime(b"hello, world") is None


def test_an_image_over_the_limit_is_not_sent(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(MAX_IMAGE_BYTES + 1)  # sparse: no 20 MiB written
    problem = load_image(big)
    assert not isinstance(problem, str) and problem.kind == "too_large"
    prepared = prepare_input([LocalImageInput("big.png")], cwd=tmp_path)
    (message,) = prepared.items
    texts = [part.text for part in message.content]  # type: ignore[union-attr]
    assert texts == ['<image name=[Image #1] path="big.png">', IMAGE_NOT_PROCESSED, "</image>"]
    assert os.path.getsize(big) == MAX_IMAGE_BYTES + 1
