"""commonfactors_web: the clinic web app, a thin Django layer over the ``commonfactors`` library.

Apps by subject (``accounts``, ``clients``, ``checkins``, ``alerts``, ``audit``) each own
their records and change them only through their own service functions. Scores, change and
signals are always computed by the library. Run it with ``python -m commonfactors_web``
(Django's ``manage.py`` commands); see ``docs/web.md``.
"""
