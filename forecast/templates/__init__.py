"""Data files for ``forecast new`` (:mod:`forecast.scaffold`): the template of a question."""
