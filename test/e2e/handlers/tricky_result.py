#!/usr/bin/env python3
"""Prints a result full of the characters an SQL array literal must escape."""
import json

print(json.dumps({"s": 'a "quoted" {braced}, back\\slash', "n": None, "u": "caf\u00e9"}))
