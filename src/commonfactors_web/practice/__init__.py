"""The practice view: team outcomes for supervisors, a therapist's own profile and their
development log (docs/practice.md)."""
