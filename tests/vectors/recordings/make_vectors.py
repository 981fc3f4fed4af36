#!/usr/bin/python3
"""Test vectors for decrypt-recording, made independently of sealed-survey.

Run with Debian's python3 and its python3-cryptography (38.0.4 when these
were made):  /usr/bin/python3 tests/vectors/recordings/make_vectors.py

It encrypts as Twilio's Voice Recording Encryption guide describes: a random
AES-256-GCM content key (CEK) and 12-byte IV per recording, the CEK wrapped
with RSAES-OAEP (SHA-256, MGF1-SHA-256), the 16-byte GCM tag appended to the
encrypted media. The outputs are committed; the tests never run Python.

Files written next to this script:
  private-pkcs8.pem / private-pkcs1.pem  the RSA-2048 private key (two forms)
  public.pem                             its public key (SPKI PEM)
  tone.wav                               plaintext: 1 s of a 440 Hz tone, 8 kHz 16-bit mono
  tone.wav.enc                           encrypted media (ciphertext || tag)
  tone.callback.json                     EncryptionDetails as the status callback sends it
  tone.recording.json                    a Recording resource (its example's field spelling)
  empty.wav.enc / empty.callback.json    an empty recording: the tag alone
"""
import base64
import json
import math
import os
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLIC_KEY_SID = "CR" + "0123456789abcdef" * 2
RECORDING_SID = "RE" + "fedcba9876543210" * 2
CALL_SID = "CA" + "00112233445566778899aabbccddeeff"


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def wav(seconds=1.0, rate=8000, freq=440.0):
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", len(frames))
    return header + frames


def encrypt(public_key, media):
    cek = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(12)
    encrypted = AESGCM(cek).encrypt(iv, media, None)  # ciphertext || 16-byte tag
    wrapped = public_key.encrypt(
        cek,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    details = {
        "type": "rsa-aes",
        "public_key_sid": PUBLIC_KEY_SID,
        "encrypted_cek": base64.b64encode(wrapped).decode(),
        "iv": base64.b64encode(iv).decode(),
    }
    return encrypted, details


def main():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("private-pkcs8.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write("private-pkcs1.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    public = key.public_key()
    write("public.pem", public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    tone = wav()
    write("tone.wav", tone)
    encrypted, details = encrypt(public, tone)
    write("tone.wav.enc", encrypted)
    # The status callback's EncryptionDetails parameter is this object's JSON text.
    write("tone.callback.json", json.dumps(details).encode())
    recording = {
        "sid": RECORDING_SID,
        "call_sid": CALL_SID,
        "status": "completed",
        "encryption_details": {
            "type": "rsa-aes",
            "encryption_public_key_sid": details["public_key_sid"],
            "encryption_cek": details["encrypted_cek"],
            "iv": details["iv"],
        },
    }
    write("tone.recording.json", json.dumps(recording, indent=2).encode())

    encrypted, details = encrypt(public, b"")
    assert len(encrypted) == 16
    write("empty.wav.enc", encrypted)
    write("empty.callback.json", json.dumps(details).encode())


if __name__ == "__main__":
    main()
