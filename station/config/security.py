"""[security]: where the station stands under the law on state secrets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from station.config.base import Strict

#: the networks a station can stand on (docs/security.md#state-secrets)
NETWORKS = ("connected", "independent_lan")


class SecuritySection(Strict):
    network: Literal["connected", "independent_lan"] = Field(
        "connected",
        description="The network the station is on: connected (any network that reaches "
        "beyond one headquarters: documents marked Mật, Tối mật or Tuyệt mật are stopped, "
        "erased and registered apart, never sent) or independent_lan (a LAN confined to "
        "one headquarters, not connected to the Internet or any other network; Law "
        "117/2025/QH15 on State Secrets). Set here only, never by the fleet.",
    )
