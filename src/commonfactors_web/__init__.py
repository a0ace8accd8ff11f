"""commonfactors_web: the clinic web app, a thin Django layer over the ``commonfactors`` library.

Apps by subject (``accounts``, ``clients``, ``checkins``, ``alerts``, ``audit``) each own
their records and change them only through their own service functions. Scores, change and
signals are always computed by the library. Run it with ``python -m commonfactors_web``
(Django's ``manage.py`` commands); see ``docs/web.md``.
"""

import os

# A web request scores and judges one episode at a time: on such tiny frames Polars' thread
# pool costs more than it gives (signal() 2.8 → 1.7 ms, score() 1.1 → 0.8 ms with one
# thread), and several server processes each with a pool of their own contend for the same
# cores. One Polars thread per process, unless POLARS_MAX_THREADS says otherwise (set
# before Polars is first imported, which the web app's modules do after this package).
os.environ.setdefault("POLARS_MAX_THREADS", "1")
