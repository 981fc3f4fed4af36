#!/usr/bin/env python3
"""Test vectors for reading requests_to_twilio_v2 `v2:` tokens in sealed-survey.

Written from the format as documented in PovertyAction/requests_to_twilio_v2
docs/encryption.md (and its `keygen` command for the key file), independently
of sealed-survey's TypeScript decoder, which the tests check against these files:

  key file   urlsafe base64 (with "=" padding) of the raw 32-byte X25519 private
             key, then a newline (what `rtt keygen` writes to rtt_private_key.txt)
  token      "v2:" + standard base64(ephemeral_pub(32) || nonce(12) || ciphertext || tag(16))
  key        HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral_pub || recipient_pub,
             info = b"requests-to-twilio/v2", length = 32)
  cipher     AES-256-GCM, AAD = b"requests-to-twilio/v2"

Keys and nonces are derived from fixed labels so that running this again
rewrites identical files. Needs Python 3 and the `cryptography` package
(Debian: apt install python3-cryptography; made with cryptography 48.0.0).

    python3 tests/vectors/ipa-v2/make_vectors.py
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption

HERE = Path(__file__).resolve().parent
INFO = b"requests-to-twilio/v2"


def det(label: str, n: int) -> bytes:
    """n bytes fixed by a label (vectors must be reproducible, not secret)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"ipa-v2 vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def private_key(label: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(det("key/" + label, 32))


def raw_public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_file_text(key: X25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.urlsafe_b64encode(raw).decode() + "\n"


def seal(plaintext: str, recipient: X25519PrivateKey, label: str) -> str:
    ephemeral = private_key("ephemeral/" + label)
    eph_pub = raw_public(ephemeral)
    rcp_pub = raw_public(recipient)
    shared = ephemeral.exchange(recipient.public_key())
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + rcp_pub, info=INFO).derive(shared)
    nonce = det("nonce/" + label, 12)
    sealed = AESGCM(aes_key).encrypt(nonce, plaintext.encode("utf-8"), INFO)
    return "v2:" + base64.b64encode(eph_pub + nonce + sealed).decode()


def flip(token: str, byte_index: int) -> str:
    raw = bytearray(base64.b64decode(token[3:]))
    raw[byte_index] ^= 0x01
    return "v2:" + base64.b64encode(bytes(raw)).decode()


def main() -> None:
    key = private_key("analyst")
    other = private_key("another project")
    (HERE / "rtt_private_key.txt").write_text(key_file_text(key), encoding="utf-8")
    (HERE / "other_private_key.txt").write_text(key_file_text(other), encoding="utf-8")
    # The peer also reads the key inline from its .env (ENCRYPTION_PRIVATE_KEY).
    (HERE / "peer.env").write_text(
        "TWILIO_ACCOUNT_SID=ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
        f"ENCRYPTION_PRIVATE_KEY={key_file_text(key)}"
        "LEGACY_SECRET_KEY=\n",
        encoding="utf-8",
    )

    values = {
        "empty": "",
        "ascii": "Jane Doe",
        "multibyte": "Ñúñez Øster 東京 👩🏽‍🌾 שלום עולם مرحبا",
        "long": "0123456789abcdef" * 512,
        "csv-hostile": 'María, "la"\nsecond line\r\nthird',
    }
    vectors = [{"name": name, "plaintext": text, "token": seal(text, key, name)} for name, text in values.items()]
    good = vectors[1]["token"]
    raw_len = len(base64.b64decode(good[3:]))
    invalid = [
        {"name": "ciphertext bit flipped", "token": flip(good, 44), "code": "AUTH_FAILED"},
        {"name": "tag bit flipped", "token": flip(good, raw_len - 1), "code": "AUTH_FAILED"},
        {"name": "nonce bit flipped", "token": flip(good, 33), "code": "AUTH_FAILED"},
        {"name": "ephemeral key bit flipped", "token": flip(good, 0), "code": "AUTH_FAILED"},
        {"name": "sealed to another key", "token": seal("Jane Doe", other, "other"), "code": "AUTH_FAILED"},
        {"name": "truncated below the minimum", "token": "v2:" + base64.b64encode(base64.b64decode(good[3:])[:59]).decode(), "code": "MALFORMED"},
        {"name": "urlsafe alphabet in the body", "token": good[:13] + "-" + good[14:], "code": "MALFORMED"},
        {"name": "not base64", "token": "v2:not base64 at all!", "code": "MALFORMED"},
    ]
    (HERE / "vectors.json").write_text(
        json.dumps(
            {
                "made_by": "tests/vectors/ipa-v2/make_vectors.py (Python cryptography), from requests_to_twilio_v2 docs/encryption.md",
                "key_file": "rtt_private_key.txt",
                "valid": vectors,
                "invalid": invalid,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )

    # A data-tab export shaped like requests_to_twilio_v2's (one row per
    # submission, keyed on caseid; identifiers as v2 tokens, answers in clear).
    header = ["timestamp", "execution_sid", "caseid", "name", "phone", "consent", "age"]
    rows = [
        ["2026-11-01T09:00:00Z", "FN0001", "C001", values["ascii"], "+254 700 000 001", "yes", "34"],
        ["2026-11-01T09:05:00Z", "FN0002", "C002", values["multibyte"], "+91 98765 43210", "yes", "19"],
        ["2026-11-01T09:07:00Z", "FN0003", "C003", values["empty"], "", "no", ""],
        ["2026-11-02T10:00:00Z", "FN0004", "C004", values["long"], "+52 55 1234 5678", "yes", "77"],
        ["2026-11-02T10:30:00Z", "FN0005", "C005", values["csv-hostile"], "+34 600 000 000", "yes", "52"],
    ]

    def write(name: str, table: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(table)
        (HERE / name).write_bytes(buffer.getvalue().encode("utf-8"))

    sealed_rows = []
    for i, row in enumerate(rows):
        out = list(row)
        # The peer leaves a value it never received empty rather than sealing "".
        out[3] = seal(row[3], key, f"row{i}/name")
        out[4] = seal(row[4], key, f"row{i}/phone") if row[4] else ""
        sealed_rows.append(out)
    write("export.csv", [header, *sealed_rows])
    write("export.plain.csv", [header, *rows])

    tampered = [list(r) for r in sealed_rows]
    tampered[2][3] = flip(tampered[2][3], 50)
    write("export-tampered.csv", [header, *tampered])


if __name__ == "__main__":
    main()
