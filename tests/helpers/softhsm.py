"""A real PKCS#11 token for the signing tests: SoftHSM2 from Debian, with its
own token folder, a key imported with softhsm2-util and the certificate written
onto the token with python-pkcs11 (as a CA's token would hold it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


class SoftHsm:
    def __init__(self, folder: Path, label: str = "vks-token", pin: str = "246810") -> None:
        self.folder = folder
        self.label = label
        self.pin = pin
        tokens = folder / "tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "softhsm2.conf"
        self.conf.write_text(
            f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
            encoding="utf-8",
        )
        # SoftHSM reads its config when the module is first initialised in a process
        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        self._util("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "13579135")

    def _util(self, *args: str) -> None:
        subprocess.run(
            ["softhsm2-util", *args], check=True, capture_output=True,
            env={**os.environ, "SOFTHSM2_CONF": str(self.conf)},
        )  # fmt: skip

    def add_key(self, key: Path, cert: Path, label: str = "signer") -> None:
        """Import a private key (PEM) and put its certificate on the token."""
        import pkcs11
        from asn1crypto import pem, x509
        from pkcs11 import Attribute, CertificateType, ObjectClass

        pk8 = self.folder / f"{label}.pk8"
        subprocess.run(
            ["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(key), "-out", str(pk8)],
            check=True, capture_output=True,
        )  # fmt: skip
        self._util("--import", str(pk8), "--token", self.label, "--label", label,
                   "--id", "01", "--pin", self.pin)  # fmt: skip
        data = cert.read_bytes()
        der = pem.unarmor(data)[2] if pem.detect(data) else data
        parsed = x509.Certificate.load(der)
        token = pkcs11.lib(str(MODULE)).get_token(token_label=self.label)
        with token.open(rw=True, user_pin=self.pin) as session:
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: label,
                    Attribute.ID: b"\x01",
                    Attribute.VALUE: der,
                    Attribute.SUBJECT: parsed.subject.dump(),
                }
            )
