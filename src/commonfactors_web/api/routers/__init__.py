"""The operations of ``/api/v1/``, one router per subject."""
