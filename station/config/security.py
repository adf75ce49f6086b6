"""[security]: where the station stands under the law on state secrets."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from station.config.base import Strict
from station.config.uplink import broker_url

#: the networks a station can stand on (docs/security.md#state-secrets)
NETWORKS = ("connected", "independent_lan")
#: the topic root of every other message (station.wire.topics.VERSION)
MAIN_ROOT = "scanstation/v1"


class SecuritySection(Strict):
    network: Literal["connected", "independent_lan"] = Field(
        "connected",
        description="The network the station is on: connected (any network that reaches "
        "beyond one headquarters: documents marked Mật, Tối mật or Tuyệt mật are stopped, "
        "erased and registered apart, never sent) or independent_lan (a LAN confined to "
        "one headquarters, not connected to the Internet or any other network; Law "
        "117/2025/QH15 on State Secrets). Set here only, never by the fleet.",
    )
    secret_topic_root: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$",
        description="independent_lan only, and required there: the topic root under which "
        "secret documents are delivered, to the receiver of secret documents on this LAN "
        "(scanstation receive --topic-root); never scanstation/v1, whose receivers may pass "
        "documents on to the DMS.",
        json_schema_extra={"example": '"vks-mat/v1"'},
    )
    secret_broker: str | None = Field(
        None,
        description="independent_lan only: the broker of the receiver of secret documents, "
        "on this LAN, with the [uplink] identity and TLS files (default: the [uplink] broker).",
        json_schema_extra={"example": '"mqtts://10.10.0.5:8883"'},
    )

    @field_validator("secret_broker")
    @classmethod
    def _secret_broker(cls, value: str | None) -> str | None:
        return None if value is None else broker_url(value)

    @model_validator(mode="after")
    def _route(self) -> Self:
        if self.network == "connected":
            for key in ("secret_topic_root", "secret_broker"):
                if getattr(self, key) is not None:
                    raise PydanticCustomError(
                        "config_key",
                        "a connected station never delivers a secret document: {key} is for "
                        "network = independent_lan only",
                        {"key": key},
                    )
            return self
        if self.secret_topic_root is None:
            raise PydanticCustomError(
                "config_key",
                "network = independent_lan needs secret_topic_root: the topic root of the "
                "receiver of secret documents on this LAN",
                {"key": "secret_topic_root"},
            )
        if self.secret_topic_root == MAIN_ROOT or self.secret_topic_root.startswith(
            MAIN_ROOT + "/"
        ):
            raise PydanticCustomError(
                "config_key",
                "secret_topic_root must not be under scanstation/v1, the other documents' root",
                {"key": "secret_topic_root"},
            )
        return self
