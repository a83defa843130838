"""What a person reads, in their language: names for ids, sentences, tables, headlines.

One presentation layer for the CLI tables, the figures, the HTML report and
any other front end: it turns results (ids, keys, numbers) into text in the
language in force (:mod:`orgsim.i18n`). Modules:

- :mod:`~orgsim.presentation.names`: units, functions, project types, queues and
  scenarios by name (``name`` in Chinese, ``name_en`` in English);
- :mod:`~orgsim.presentation.texts`: the scenario's own text (description, sources,
  assumptions) in the reader's language, picked by the same rule as names;
- :mod:`~orgsim.presentation.changes`: the change log as one sentence per operator;
- :mod:`~orgsim.presentation.results`: result tables (per project type, pooled,
  structure, staffing, queues) and the report's headline, as rows of text.

Only :mod:`~orgsim.presentation.results` needs simulation results; the other
others load nothing but the model, so ``show`` and ``apply`` stay light.
"""
