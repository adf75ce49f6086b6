"""A throw-away certificate authority for the TLS tests (openssl)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Pki:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.ca = folder / "ca.crt"
        self.ca_key = folder / "ca.key"
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(self.ca_key), "-out", str(self.ca), "-days", "2",
            "-subj", "/CN=scanstation test CA", cwd=folder,
        )  # fmt: skip

    def issue(
        self,
        name: str,
        *,
        server: bool = False,
        ca: bool = True,
        signer: bool = False,
        rsa: bool = False,
    ) -> tuple[Path, Path]:
        """(certificate, key) with CN ``name``; ``ca=False`` makes it self-signed;
        ``signer`` gives it the key usage of a document signing certificate."""
        key, csr, crt = (self.folder / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
        ext = self.folder / f"{name}.ext"
        ext.write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            if server
            else "basicConstraints=CA:FALSE\n"
            + ("keyUsage=critical,digitalSignature,nonRepudiation\n" if signer else ""),
            encoding="utf-8",
        )
        kind = ["rsa:2048"] if rsa else ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        _openssl(
            "req", "-newkey", *kind, "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}", cwd=self.folder,
        )  # fmt: skip
        if ca:
            _openssl(
                "x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey", str(self.ca_key),
                "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext),
                cwd=self.folder,
            )  # fmt: skip
        else:
            _openssl(
                "x509", "-req", "-in", str(csr), "-signkey", str(key), "-out", str(crt),
                "-days", "2", "-extfile", str(ext), cwd=self.folder,
            )  # fmt: skip
        key.chmod(0o600)
        return crt, key
