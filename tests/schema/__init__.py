"""The in-process tier: every root field of the schema, executed with the app in this process.

One module per domain of schema/, each field's happy path and its main
refusal; tests/schema/test_root_fields_covered.py fails when a root field of
the schema has no document here.
"""
