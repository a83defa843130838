"""``orgsim app``: a local web page for a training room (Shiny for Python, an optional extra).

- :mod:`~orgsim.app.levers`: the page's controls as sweep levers, and the scenario each setting gives;
- :mod:`~orgsim.app.jobs`: one comparison at a time in a worker thread, with progress and cancel;
- :mod:`~orgsim.app.page`: the page itself (imports Shiny).

Only :mod:`~orgsim.app.page` needs the web framework (``pip install "orgsim[app]"``); the
command imports it when it runs.
"""
