"""The API documentation page (GET /api/v1/docs): the OpenAPI document rendered on the server
as plain HTML. No script and nothing from another origin (the CSP forbids both; the desk may
have no internet); the only style is inline."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

__all__ = ["docs_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-bottom:.3em}
code,.method{font-family:ui-monospace,monospace}
.method{display:inline-block;min-width:3.5em;font-weight:bold;text-transform:uppercase}
table{border-collapse:collapse;margin:.4em 0 1em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
section{margin-bottom:1.5em}
pre{background:#f6f6f6;padding:.4em .6em;overflow-x:auto}
"""


_LITERAL = re.compile(r"``(.+?)``")


def _text(value: object) -> str:
    """Escaped prose; ``literal`` (docstring style) as code."""
    return _LITERAL.sub(r"<code>\1</code>", escape(str(value)))


def _type(schema: dict[str, Any]) -> str:
    """A short, readable type: string, integer 0..1000, Name, A | B, list of X ..."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(s) for s in schema[key])
    if "enum" in schema:
        return " | ".join(f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(_type(s) for s in schema["prefixItems"]) + "]"
        return "list of " + _type(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + _type(schema["additionalProperties"])
    if kind is None:
        return "any"
    text = escape(" | ".join(kind) if isinstance(kind, list) else str(kind))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        text += f" {'' if low is None else low}..{'' if high is None else high}"
    return text


def _properties(schema: dict[str, Any]) -> str:
    props = schema.get("properties", {})
    if not props:
        return "<p>An object" + (" with no keys." if schema.get("additionalProperties") is False
                                 else ".") + "</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_type(prop)}</td>"
        f"<td>{'yes' if name in required else 'no'}</td>"
        f"<td>{_text(prop.get('description', ''))}"
        f"{_default(prop)}</td></tr>"
        for name, prop in props.items())
    extra = ("<p>Unknown keys are refused (422, <code>unknown field</code>).</p>"
             if schema.get("additionalProperties") is False else "")
    return ("<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>"
            f"{rows}</table>{extra}")


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return ""
    return f" (default <code>{escape(json.dumps(prop['default']))}</code>)"


def _parameters(params: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{_type(p['schema'])}</td><td>{escape(p.get('description', ''))}"
        f"{_default(p['schema'])}</td></tr>" for p in params)
    return ("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th>"
            f"<th>meaning</th></tr>{rows}</table>")


def _media(content: dict[str, Any]) -> str:
    return "; ".join(f"<code>{escape(media)}</code> {_type(body.get('schema', {}))}"
                     for media, body in content.items())


def _body(body: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A request body: its description, its fields (the referenced schema inline), examples."""
    required = "required" if body.get("required") else "optional"
    parts = [f"<h4>Body ({required})</h4><p>{_media(body['content'])}: "
             f"{_text(body.get('description', ''))}</p>"]
    ref = body["content"].get("application/json", {}).get("schema", {}).get("$ref", "")
    schema = schemas.get(str(ref).rsplit("/", 1)[-1], {})
    parts.append(_properties(schema))
    parts += [f"<pre>{escape(json.dumps(example))}</pre>"
              for example in schema.get("examples", [])]
    return "".join(parts)


def _operation(path: str, method: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    parts = [f'<section id="{escape(op["operationId"])}"><h3><span class="method">'
             f"{escape(method)}</span> <code>{escape(path)}</code></h3>"
             f"<p>{_text(op.get('summary', ''))}</p>"]
    if op.get("parameters"):
        parts.append(_parameters(op["parameters"]))
    if op.get("requestBody"):
        parts.append(_body(op["requestBody"], schemas))
    rows = "".join(f"<tr><td>{escape(status)}</td><td>{_media(resp.get('content', {}))}</td>"
                   f"<td>{_text(resp['description'])}</td></tr>"
                   for status, resp in op["responses"].items())
    parts.append("<h4>Responses</h4><table><tr><th>status</th><th>body</th><th>when</th></tr>"
                 f"{rows}</table></section>")
    return "".join(parts)


def docs_html(document: dict[str, Any]) -> str:
    """The whole page for an OpenAPI document: every operation, then every schema."""
    info = document["info"]
    index = "".join(
        f'<li><a href="#{escape(op["operationId"])}"><span class="method">{escape(method)}'
        f"</span> <code>{escape(path)}</code></a> {escape(op.get('summary', ''))}</li>"
        for path, item in document["paths"].items() for method, op in item.items())
    schemas = document["components"]["schemas"]
    operations = "".join(_operation(path, method, op, schemas)
                         for path, item in document["paths"].items()
                         for method, op in item.items())
    schemas = "".join(
        f'<section id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
        f"<p>{_text(schema.get('description', ''))}</p>{_properties(schema)}</section>"
        for name, schema in schemas.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])}</h1><p>{escape(info.get('description', ''))}</p>"
        '<p>Machine-readable: <a href="openapi.json"><code>openapi.json</code></a> '
        f"(OpenAPI {escape(document['openapi'])}).</p>"
        f"<h2>Operations</h2><ul>{index}</ul>{operations}"
        f"<h2>Schemas</h2>{schemas}</body></html>")
