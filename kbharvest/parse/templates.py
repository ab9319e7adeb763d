"""Registry: template name → parser function (text, url, name) → Article."""

TEMPLATES: dict = {}
