"""The pull sync as plain Python: Etsy client + dlt source + raw→core transforms, one shop at a time.

The CLI (`etsy-pipeline sync`, `connect`, `demo`) and the Dagster assets both call into this package.
"""
