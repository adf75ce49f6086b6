"""What a notification says: one message for a set of alert changes.

Vietnamese first, English after, in the e-mail's text and in the webhook's
JSON alike. Changes of the same kind and direction are one line (the loss of
twelve stations at once: "Mất kết nối (12 trạm): vks-01, vks-02, …"). A digest
is the same with the quiet hours it covers in its title.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from station.central.alertdb import Change, stamp
from station.central.rules import KIND_WORDS, SEVERITY_WORDS
from station.common.clock import VIETNAM

#: what happened to an alert -> (Vietnamese, English)
WHAT_WORDS: dict[str, tuple[str, str]] = {
    "raise": ("Cảnh báo mới", "New alert"),
    "reraise": ("Lặp lại sau khi đã hết", "Back after it had cleared"),
    "clear": ("Đã hết", "Cleared"),
}
TITLE = ("Giám sát trạm quét", "Scan station fleet")


def _local(raw: str) -> str:
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def _who(change: Change) -> str:
    alert = change.alert
    if alert.scope == "unit":
        return alert.subject
    return f"{alert.subject} ({alert.unit})" if alert.unit else alert.subject


def _groups(changes: Sequence[Change]) -> list[list[Change]]:
    """Changes of one kind and direction together, in the order they came."""
    found: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        found.setdefault((change.what, change.alert.kind), []).append(change)
    return list(found.values())


def _summary(changes: Sequence[Change]) -> tuple[str, str]:
    groups = _groups(changes)
    if len(groups) == 1:
        first = groups[0][0]
        kind_vi, kind_en = KIND_WORDS.get(first.alert.kind, (first.alert.kind,) * 2)
        what_vi, what_en = WHAT_WORDS[first.what]
        count = len(groups[0])
        if count == 1:
            return f"{what_vi}: {kind_vi} – {_who(first)}", f"{what_en}: {kind_en} – {_who(first)}"
        noun_vi = "đơn vị" if first.alert.scope == "unit" else "trạm"
        noun_en = "units" if first.alert.scope == "unit" else "stations"
        return (
            f"{what_vi}: {kind_vi} ({count} {noun_vi})",
            f"{what_en}: {kind_en} ({count} {noun_en})",
        )
    raised = sum(c.what != "clear" for c in changes)
    cleared = len(changes) - raised
    return (
        f"{raised} cảnh báo mới, {cleared} cảnh báo đã hết",
        f"{raised} new alerts, {cleared} cleared",
    )


def _line(group: list[Change], lang: int) -> str:
    first = group[0]
    alert = first.alert
    severity = SEVERITY_WORDS.get(alert.severity, (alert.severity,) * 2)[lang]
    kind = KIND_WORDS.get(alert.kind, (alert.kind,) * 2)[lang]
    what = WHAT_WORDS[first.what][lang]
    if len(group) > 1:
        noun = ("trạm", "stations") if alert.scope == "station" else ("đơn vị", "units")
        names = ", ".join(sorted(c.alert.subject for c in group))
        at = _local(group[0].at)
        return f"- [{severity}] {what}: {kind} ({len(group)} {noun[lang]}, {at}): {names}"
    text = alert.vi if lang == 0 else alert.en
    ack = ""
    if alert.acked_by and first.what != "clear":
        ack = (" – đã biết: " if lang == 0 else " – acknowledged by ") + alert.acked_by
    return f"- [{severity}] {what}: {_who(first)} – {text} ({_local(first.at)}){ack}"


def compose(
    changes: Sequence[Change],
    now: datetime,
    *,
    digest_of: str = "",
    dashboard_url: str = "",
) -> dict[str, Any]:
    """One message: ``subject`` and ``text`` for e-mail, ``json`` for a webhook.
    ``digest_of``: the quiet hours ("22:00-06:00") it sums up, or "" for none."""
    vi, en = _summary(changes)
    if digest_of:
        vi = f"Tóm tắt giờ yên lặng {digest_of}: {vi}"
        en = f"Quiet hours digest {digest_of}: {en}"
    subject = f"[{TITLE[0]}] {vi} / {en}"
    groups = _groups(changes)
    text = [vi, "", *(_line(g, 0) for g in groups)]
    if dashboard_url:
        text += ["", f"Xem trên trang giám sát: {dashboard_url}"]
    text += ["", "—", "", en, "", *(_line(g, 1) for g in groups)]
    if dashboard_url:
        text += ["", f"See the dashboard: {dashboard_url}"]
    body = {
        "source": "scanstation-fleet",
        "version": 1,
        "id": secrets.token_hex(12),
        "sent_at": stamp(now),
        "digest": bool(digest_of),
        "quiet_hours": digest_of or None,
        "summary": {"vi": vi, "en": en},
        "dashboard": dashboard_url or None,
        "changes": [
            {
                "what": c.what,
                "at": c.at,
                "alert": {
                    **c.alert.as_json(),
                    "station_id": c.alert.station_id,
                },
            }
            for c in changes
        ],
    }
    return {"subject": subject, "text": "\n".join(text) + "\n", "json": body}
