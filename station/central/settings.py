"""The central side's hand-off to the agency's DMS: ``dms.toml`` (docs/integration.md).

``scanstation receiver --dms FILE`` reads it. Our agency's identity is the
``To`` of every edXML document message and the ``OrganId`` of our trace; the
inbox folder is where the messages are written and the DMS's status messages
are taken from; the ``[api]`` section, when present, opens the axis-style HTTP
API (docs/dms-api.md). Strict like ``station.toml``: an unknown key, a wrong
type or an impossible value is refused with the line and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from station.common.tomlconfig import parse_toml
from station.errors import ConfigError

#: an OrganId (QCVN 102:2016, codes per QĐ 20/2020/QĐ-TTg since 2022): up to 35
#: characters, letters, digits and dots ("000.00.00.G22")
OrganId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,34}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class AgencySection(_Strict):
    """Our agency: the recipient of every document the stations digitize."""

    organ_id: OrganId = Field(
        description="The agency's OrganId (mã định danh, QĐ 20/2020/QĐ-TTg), as the DMS knows it.",
        json_schema_extra={"example": '"000.00.00.H56"'},
    )
    name: str = Field(
        min_length=1,
        max_length=200,
        description="The agency's name as the DMS writes it (OrganName).",
        json_schema_extra={"example": '"Viện kiểm sát nhân dân tỉnh Thanh Hóa"'},
    )
    in_charge: str = Field(
        "", max_length=500, description="The governing body (OrganizationInCharge); may be empty."
    )
    address: str = Field("", max_length=500, description="Postal address (OrganAdd).")
    email: str = Field("", max_length=100, description="E-mail address.")
    telephone: str = Field("", max_length=20, description="Telephone number.")
    fax: str = Field("", max_length=20, description="Fax number.")
    website: str = Field("", max_length=100, description="Website.")


class EdxmlSection(_Strict):
    """Where the edXML messages go and who may answer them."""

    inbox: Path = Field(
        description="The folder the DMS takes documents from: one .edxml per document, written "
        "whole; its answers/ subfolder takes the DMS's status messages.",
        json_schema_extra={"example": '"/srv/scanstation/dms-inbox"'},
    )
    directory: Path | None = Field(
        None,
        description="An agency directory, CSV (organ_id,name[,in_charge]) or JSON "
        '([{"organ_id": …, "name": …, "aliases": […]}]): the OrganId of a sender whose name '
        "is read exactly as listed.",
    )
    dms_organ_ids: tuple[OrganId, ...] = Field(
        (),
        description="The OrganIds a status message may come from (the agency's DMS); empty: "
        "only [agency] organ_id.",
    )
    zip_attachments: bool = Field(
        True,
        description="Carry the PDF zipped (application/zip), as the official samples do; false: "
        "the raw PDF (application/pdf).",
    )


class ApiSection(_Strict):
    """The axis-style HTTP API (docs/dms-api.md); absent: no API, only the folder.
    It is never open: a token, a client CA or both (checked by
    :meth:`station.central.api.ApiSettings.check` when it starts)."""

    listen: str = Field(
        "127.0.0.1:8780",
        description="HOST:PORT the API listens on; anything but loopback needs TLS.",
    )
    token_file: Path | None = Field(
        None, description="A file holding the bearer token a DMS must send (first line)."
    )
    cert_file: Path | None = Field(None, description="TLS server certificate (PEM).")
    key_file: Path | None = Field(None, description="TLS server private key (PEM).")
    client_ca_file: Path | None = Field(
        None,
        description="With it, mutual TLS: the DMS must present a certificate this CA signed.",
    )


class DmsSettings(_Strict):
    agency: AgencySection
    edxml: EdxmlSection
    api: ApiSection | None = None

    @property
    def dms_organ_ids(self) -> tuple[str, ...]:
        return self.edxml.dms_organ_ids or (self.agency.organ_id,)


def load_dms(path: Path) -> DmsSettings:
    """``dms.toml`` validated; ConfigError naming the line and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the DMS config {path}: {exc}. Fix: see docs/integration.md",
            f"Không đọc được cấu hình DMS {path}: {exc}. Cách sửa: xem docs/integration.md",
        ) from None
    return parse_toml(text, DmsSettings, str(path))
