"""Rules of the inferstack policy pack, one module per concern; each module exports POLICIES."""
