"""``python -m station.config``: the config reference for docs/config.md."""

from station.config import markdown_reference

print(markdown_reference())
