"""Rules of the inferstack policy pack, one module per concern; each module exports ENTRIES (``PolicyEntry``: the
policy, its level per environment, its settings and the types it validates), which ``policies/pack.py`` gathers."""
