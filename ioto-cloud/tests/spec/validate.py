"""Validates request bodies against the OpenAI OpenAPI spec beside this file.

stdin: a JSON array of {"name": str, "schema": str, "body": object}
stdout: one line per body, "ok <name>" or "FAIL <name>: <reason>"; exit 1 if any failed.

Beyond JSON-Schema validation (jsonschema, Draft 2020-12, which OpenAPI 3.1 uses), the
body's top-level keys must all be properties the schema declares, so a misspelt field
cannot slip through an open object schema.
"""
import json
import os
import sys

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = os.path.dirname(os.path.abspath(__file__))


def load_spec():
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(os.path.join(HERE, "openapi.yaml"), encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def declared_properties(spec, schema, seen=None):
    """Property names an object schema declares, following $ref/allOf/anyOf/oneOf."""
    seen = seen or set()
    props = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if ref and ref not in seen:
        seen.add(ref)
        target = spec
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        props |= declared_properties(spec, target, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            props |= declared_properties(spec, sub, seen)
    return props


def main():
    spec = load_spec()
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openai", resource)
    cases = json.load(sys.stdin)
    failed = 0
    for case in cases:
        name, schema_name, body = case["name"], case["schema"], case["body"]
        if schema_name not in spec["components"]["schemas"]:
            print(f"FAIL {name}: no schema {schema_name}")
            failed += 1
            continue
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"urn:openai#/components/schemas/{schema_name}"}, registry=registry
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            print(f"FAIL {name}: {list(e.path)}: {e.message[:300]}")
            failed += 1
            continue
        known = declared_properties(spec, spec["components"]["schemas"][schema_name])
        extra = sorted(set(body) - known) if isinstance(body, dict) else []
        if extra:
            print(f"FAIL {name}: undeclared top-level fields {extra}")
            failed += 1
            continue
        print(f"ok {name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
