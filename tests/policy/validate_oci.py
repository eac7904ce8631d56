#!/usr/bin/python3
"""Validate OCI config.json files against the runtime-spec JSON schema.

usage: validate_oci.py SCHEMA_DIR CONFIG.json...
Prints one line per violation ("file: json/path: message"); exit 1 if any.
"""
import json
import os
import sys

import jsonschema


def main():
    schema_dir = os.path.abspath(sys.argv[1])
    with open(os.path.join(schema_dir, "config-schema.json")) as f:
        schema = json.load(f)
    resolver = jsonschema.RefResolver(base_uri="file://" + schema_dir + "/", referrer=schema)
    validator = jsonschema.Draft4Validator(schema, resolver=resolver)
    rc = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            config = json.load(f)
        for err in sorted(validator.iter_errors(config), key=str):
            where = "/".join(str(p) for p in err.absolute_path)
            print(f"{path}: {where}: {err.message}")
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
