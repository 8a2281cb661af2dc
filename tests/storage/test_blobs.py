"""Blob store: AES-256-GCM segments, atomic writes, tampering detected."""

import os
from pathlib import Path

import pytest

from storage.blobs import SEGMENT, BlobStore
from storage.crypto import random_key
from storage.errors import CorruptDatabaseError, NotFoundError


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", random_key())


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 7])
def test_round_trip_of_any_size(store: BlobStore, size: int) -> None:
    # GIVEN random content of a size around segment boundaries
    data = os.urandom(size)
    # WHEN stored and read back
    blob_id = store.put(data)
    # THEN it is identical, and the file on disk does not contain it
    assert store.get(blob_id) == data
    raw = store.path_for(blob_id).read_bytes()
    assert size < 16 or data[:64] not in raw


def test_stream_input_is_accepted(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(b"x" * (SEGMENT * 2 + 5))
    with source.open("rb") as handle:
        blob_id = store.put(handle)
    assert store.get(blob_id) == source.read_bytes()


@pytest.mark.parametrize("damage", ["flip", "truncate", "extend", "drop_segment"])
def test_tampered_blob_is_refused_not_served(store: BlobStore, damage: str) -> None:
    # GIVEN a stored two-segment blob
    blob_id = store.put(os.urandom(SEGMENT + 100))
    path = store.path_for(blob_id)
    raw = bytearray(path.read_bytes())
    # WHEN its file is damaged
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01
    elif damage == "truncate":
        raw = raw[:-10]
    elif damage == "extend":
        raw += b"\x00" * 32
    else:
        raw = raw[: len(raw) - (100 + 16)]  # the final segment is cut off cleanly
    path.write_bytes(bytes(raw))
    # THEN reading fails with an integrity error
    with pytest.raises(CorruptDatabaseError):
        store.get(blob_id)


def test_blob_under_another_tenants_key_does_not_decrypt(tmp_path: Path) -> None:
    mine = BlobStore(tmp_path / "b", random_key())
    theirs = BlobStore(tmp_path / "b", random_key())
    blob_id = mine.put(b"private")
    with pytest.raises(CorruptDatabaseError):
        theirs.get(blob_id)


def test_missing_and_malformed_ids_are_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFoundError):
        store.get("0" * 32)
    with pytest.raises(NotFoundError):
        store.get("../../etc/passwd")


def test_no_temporary_files_are_left_behind(store: BlobStore) -> None:
    for _ in range(3):
        store.put(b"abc")
    leftovers = [p for p in store.root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert len(list(store.ids())) == 3
