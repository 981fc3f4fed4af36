"""Python yardstick for `npm run bench`: decrypts the benchmark's legacy or
shared-mode export the way a pandas script does (read the whole CSV as text,
decrypt each cell of the named columns, write the CSV), with pycryptodome.

    python3 decrypt_csv.py legacy PASSPHRASE_FILE IN.csv OUT.csv COLUMN...
    python3 decrypt_csv.py shared KEY_FILE IN.csv OUT.csv COLUMN...

It opens the cells only (no row checks): a floor for what a Python tool costs,
not a replacement for decrypt-csv.
"""

import base64
import sys

import pandas as pd

try:
    from Cryptodome.Cipher import AES
    from Cryptodome.Util.Padding import unpad
except ImportError:  # the PyPI "pycryptodome" package installs as Crypto
    from Crypto.Cipher import AES
    from Crypto.Util.Padding import unpad


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def legacy_key(passphrase):
    cut = passphrase[:16] if len(passphrase) > 16 else passphrase.ljust(16, "0")
    return cut.encode("utf-8")


def open_legacy(cell, key):
    raw = base64.b64decode(cell)
    plain = AES.new(key, AES.MODE_CBC, raw[:16]).decrypt(raw[16:])
    return unpad(plain, 16).decode("utf-8")


def open_shared(cell, key):
    last = cell.rindex(".")
    parts = cell.split(".")
    nonce = b64url(parts[-2])
    body = b64url(cell[last + 1:])
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(cell[: last + 1].encode("ascii"))
    return cipher.decrypt_and_verify(body[:-16], body[-16:]).decode("utf-8")


def main(argv):
    mode, key_file, source, target, *columns = argv
    secret = open(key_file, encoding="utf-8").read().strip()
    if mode == "legacy":
        key, opener = legacy_key(secret), open_legacy
    else:
        key, opener = base64.b64decode(secret), open_shared
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    for column in columns:
        frame[column] = [opener(cell, key) if cell else cell for cell in frame[column]]
    frame.to_csv(target, index=False)


if __name__ == "__main__":
    main(sys.argv[1:])
