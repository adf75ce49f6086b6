"""The web interfaces: the station's review UI and the fleet dashboard (Flask blueprints).
The only room that imports Flask; review/ and register/ never import fleet/, nor fleet/ them.

Installed as ``station.ui``. :func:`create_app` builds a Flask app from its
settings and the services it shows; each area is a blueprint that is
registered only when its service is given.
"""

from __future__ import annotations

from station.ui.app import Services, WebSettings, create_app

__all__ = ["Services", "WebSettings", "create_app"]
