"""The disk guard: one cleanup policy used by ``cleanup.yml``, the preflight budget and the training watchdog.

- ``config``: the validated configuration (:class:`DiskGuardConfig`).
- ``protected``: the protected set and the one function every deletion goes through.
- ``steps``: the ordered cleanup steps.
- ``policy``: :func:`run_policy`, watermarks and the loop over steps.
- ``watchdog``: :func:`ensure_fits`, called by the training supervisor before each save.
- ``budget``: :func:`recipe_budget`, the preflight disk budget.
"""
