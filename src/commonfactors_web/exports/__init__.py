"""Data out: tidy CSV and Parquet tables and FHIR R4 Bundles of a practice's records,
pseudonymised by default (docs/exports.md)."""
