#!/usr/bin/env python3
"""Writes a seed for fuzz_signed_package: a valid Ed25519 public key (the base point), then a
128-byte package and a well-formed 96-byte block naming that key (the signature is zeros, so
the check reaches the signature verification and refuses there)."""
import hashlib, struct, sys

pk = bytes.fromhex("58" + "66" * 31)
key_id = hashlib.sha512(pk.hex().encode()).digest()[:8]
package = bytearray(128)
package[0:4] = b"TMPK"
struct.pack_into("<I", package, 8, len(package))
block = b"TMSG" + struct.pack("<HHII", 1, 96, 1, 0) + key_id + bytes(8) + bytes(64)
sys.stdout.buffer.write(pk + bytes(package) + block)
