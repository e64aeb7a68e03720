"""What the page accepts: photos checked for type, size and pixels, and batches (a .zip or many files).

Every refusal is a sentence naming the file and the reason. No Streamlit here.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from ui.drawing import NotAnImage, open_upright
from ui.report import Photo
from ui.settings import MAX_PIXELS, MAX_UPLOAD_MB

# What both APIs decode (Pillow formats); the page offers the same.
PHOTO_TYPES = ("jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff")
MAX_BATCH = 20
MAX_ZIP_MB = 100


@dataclass(frozen=True)
class Refusal:
    """A file the page will not analyse, and why (a sentence for people)."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def suffix(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def check_photo(name: str, data: bytes) -> Photo | Refusal:
    """The decoded photo, or why it is refused: its type, its size in MB, or its pixels."""
    if suffix(name) not in PHOTO_TYPES:
        shown = f".{suffix(name)} files" if suffix(name) else "files without an extension"
        return Refusal(name, f"{shown} are not accepted; send one of {', '.join(PHOTO_TYPES)}.")
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        return Refusal(
            name, f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_MB} MB."
        )
    try:
        picture = open_upright(data, max_pixels=MAX_PIXELS)
    except NotAnImage as exc:
        return Refusal(name, f"{exc}.")
    return Photo(name=name, data=data, picture=picture)


def batch_files(uploads: list[tuple[str, bytes]]) -> tuple[list[Photo], list[Refusal]]:
    """The photos of a batch upload (single files and the photos inside .zip files), first ``MAX_BATCH``.

    Folders and hidden files inside archives (``__MACOSX/``, ``.DS_Store``) are skipped silently.
    """
    photos: list[Photo] = []
    refusals: list[Refusal] = []
    for name, data in uploads:
        members = _zip_members(name, data, refusals) if suffix(name) == "zip" else [(name, data)]
        for member_name, member_data in members:
            if len(photos) == MAX_BATCH:
                refusals.append(Refusal(member_name, f"left out: at most {MAX_BATCH} photos per batch."))
                continue
            checked = check_photo(member_name, member_data)
            (photos if isinstance(checked, Photo) else refusals).append(checked)
    return photos, refusals


def _zip_members(name: str, data: bytes, refusals: list[Refusal]) -> list[tuple[str, bytes]]:
    if len(data) > MAX_ZIP_MB * 1024 * 1024:
        refusals.append(Refusal(name, f"the archive is larger than {MAX_ZIP_MB} MB."))
        return []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not any(part.startswith((".", "__")) for part in PurePath(info.filename).parts)
        ]
        members = []
        for index, info in enumerate(infos):
            if index == MAX_BATCH:
                left_out = len(infos) - MAX_BATCH
                refusals.append(
                    Refusal(name, f"{left_out} more files left out: at most {MAX_BATCH} per batch.")
                )
                break
            if info.file_size > MAX_UPLOAD_MB * 1024 * 1024:  # refused before it is inflated
                refusals.append(Refusal(info.filename, f"the file is larger than {MAX_UPLOAD_MB} MB."))
                continue
            members.append((info.filename, archive.read(info)))
        return members
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        refusals.append(Refusal(name, f"the archive cannot be read ({exc})."))
        return []
