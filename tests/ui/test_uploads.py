"""What the page accepts and refuses, before any API call: types, sizes, pixels, batches and .zip files."""

from __future__ import annotations

import io
import zipfile

from tests.support.images import encode, gradient
from ui.report import Photo
from ui.uploads import MAX_BATCH, Refusal, batch_files, check_photo

PNG = encode(gradient(40, 30), "PNG")


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_photo_of_an_accepted_type_opens_whatever_case_its_extension():
    checked = check_photo("SCAN.TIFF", encode(gradient(40, 30), "TIFF"))
    assert isinstance(checked, Photo) and checked.picture.size == (40, 30)


def test_refusals_name_the_type_the_size_or_the_damage():
    assert check_photo("notes.txt", b"x") == Refusal(
        "notes.txt", ".txt files are not accepted; send one of jpg, jpeg, png, webp, bmp, gif, tif, tiff."
    )
    assert "files without an extension" in check_photo("README", b"x").reason
    assert (
        check_photo("big.png", b"\0" * (17 * 1024 * 1024)).reason
        == "the file is 17.0 MB; the limit is 16 MB."
    )
    assert "not an image this page can read" in check_photo("fake.png", b"not a png").reason


def test_a_batch_takes_files_and_zips_skips_hidden_members_and_stops_at_twenty():
    archive = zipped(
        {"a/one.png": PNG, "a/notes.txt": b"words", "__MACOSX/._one.png": b"", ".hidden.png": PNG}
    )
    photos, refusals = batch_files([("first.png", PNG), ("album.zip", archive)])
    assert [p.name for p in photos] == ["first.png", "a/one.png"]
    assert [r.name for r in refusals] == ["a/notes.txt"]

    many = [(f"{i:02}.png", PNG) for i in range(MAX_BATCH + 2)]
    photos, refusals = batch_files(many)
    assert len(photos) == MAX_BATCH
    assert [str(r) for r in refusals] == [
        f"20.png: left out: at most {MAX_BATCH} photos per batch.",
        f"21.png: left out: at most {MAX_BATCH} photos per batch.",
    ]


def test_a_damaged_zip_is_refused_in_words():
    photos, refusals = batch_files([("broken.zip", b"PK\x03\x04 not really")])
    assert photos == [] and refusals[0].name == "broken.zip"
    assert refusals[0].reason.startswith("the archive cannot be read")
