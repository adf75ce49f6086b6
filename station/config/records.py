"""[signing] and [incoming]: certified copies and the incoming register."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from station.common.direction import Direction
from station.config.base import (
    Strict,
)


class SigningSection(Strict):
    enabled: bool = Field(
        False,
        description="Sign every delivered document with the agency's key (a certified copy, "
        "Decree 30 Art. 25): PAdES, the signature image not shown, the copy's text at the "
        "top right of page 1.",
    )
    key_store: Literal["pkcs11", "pkcs12"] = Field(
        "pkcs11",
        description="Where the key is: pkcs11 (the agency's key device, a USB token or HSM) "
        "or pkcs12 (a .p12/.pfx file).",
    )
    pkcs11_module: Path | None = Field(
        None,
        description="The token's PKCS#11 library (from its vendor).",
        json_schema_extra={"example": '"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"'},
    )
    token_label: str | None = Field(
        None, max_length=64, description="Label of the token to use (none: the first one)."
    )
    key_label: str | None = Field(
        None, max_length=128, description="Label of the signing key on the token."
    )
    cert_label: str | None = Field(
        None,
        max_length=128,
        description="Label of the certificate on the token (default: the key's label).",
    )
    cert_file: Path | None = Field(
        None, description="The signer's certificate, when the token does not hold it."
    )
    chain_files: tuple[Path, ...] = Field(
        (), description="Intermediate CA certificates to embed with the signature."
    )
    pkcs12_file: Path | None = Field(None, description="The .p12/.pfx file (key_store = pkcs12).")
    pin_file: Path | None = Field(
        None,
        description="File holding the token PIN or the .p12 passphrase (or set "
        "SCANSTATION_SIGNING_PIN); never on the command line.",
    )
    timestamp_url: str | None = Field(
        None,
        description="RFC 3161 time stamp server: with it signatures are PAdES B-T, without it B-B.",
    )
    copy_type: str = Field(
        "Sao y",
        min_length=1,
        max_length=40,
        description="Type of copy shown on page 1 (Sao y, Sao lục, Trích sao).",
    )
    agency: str = Field(
        "",
        max_length=200,
        description="The copying agency shown on page 1 (default: [station] unit_name).",
    )
    directions: tuple[Direction, ...] = Field(
        ("incoming", "outgoing"),
        min_length=1,
        description="Which documents are signed: incoming (a certified copy of a paper "
        "received), outgoing (of a paper this agency signed and sends), or both.",
        json_schema_extra={"example": '["outgoing"]'},
    )
    allow_unsigned: bool = Field(
        False,
        description="Send a document unsigned when signing fails (otherwise it waits in the "
        "outbox until the token works).",
    )

    @model_validator(mode="after")
    def _complete(self) -> SigningSection:
        if not self.enabled:
            return self
        if self.key_store == "pkcs12" and self.pkcs12_file is None:
            raise PydanticCustomError(
                "config_key", "key_store = pkcs12 needs pkcs12_file", {"key": "pkcs12_file"}
            )
        if self.key_store == "pkcs11" and self.pkcs11_module is None:
            raise PydanticCustomError(
                "config_key",
                "key_store = pkcs11 needs the token's library in pkcs11_module",
                {"key": "pkcs11_module"},
            )
        if self.key_store == "pkcs11" and not (self.key_label or self.cert_label):
            raise PydanticCustomError(
                "config_key", "name the key on the token: key_label", {"key": "key_label"}
            )
        return self


class OutgoingSection(Strict):
    """The outgoing register (Sổ đăng ký văn bản đi) and its checks."""

    notation: tuple[str, ...] = Field(
        (),
        max_length=20,
        description="The agency's own abbreviations in a ký hiệu (the part after the type's: "
        "'VKS' in 45/QĐ-VKS, 12/VKS-VP): an outgoing document whose ký hiệu has none of them "
        "asks 'Vẫn gửi?'. Empty: not checked.",
        json_schema_extra={"example": '["VKSTH"]'},
    )
    numbering: Literal["common", "per_type"] = Field(
        "common",
        description="Numbers run from 1 each year across all documents (common, Decree 30 "
        "Art. 15) or for each type apart (per_type: decisions, reports, ... each their own).",
    )
    keeper: str = Field(
        "",
        max_length=120,
        description="Name printed under the signature line of an exported outgoing register.",
    )
    by_post: bool = Field(
        True,
        description="Keep the Sổ gửi văn bản đi bưu điện too: documents marked as sent by "
        "post, with their envelopes.",
    )


class IncomingSection(Strict):
    """The incoming register (Sổ đăng ký văn bản đến)."""

    holidays: tuple[date, ...] = Field(
        (),
        max_length=400,
        description="Days off besides Saturdays, Sundays and the fixed national holidays "
        "(1/1, 30/4, 1/5, 2/9): Tết, the Hùng Kings' day, days moved by the government. "
        "A registration later than the next working day after arrival is flagged.",
        json_schema_extra={"example": '["2026-02-16", "2026-02-17", "2026-04-26"]'},
    )
    keeper: str = Field(
        "",
        max_length=120,
        description="Name printed under the signature line of an exported register "
        "(the clerk who keeps it); empty leaves the line blank.",
    )
