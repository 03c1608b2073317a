"""The generation job over many seeds: read or mine seeds, run one dialogue per seed on workers
(threads or Ray actors, all calling :func:`~aiev_agents.generate.workers.run_one`), append each
record to the store, keep the manifest and progress, and write the run report.

Modules: :mod:`.pipeline` (``Generation``), :mod:`.job` (its options, events and summary),
:mod:`.scheduler` (the scheduling loop), :mod:`.resume` (taking up a run folder again),
:mod:`.stage_switching` (the stage switch during a run), :mod:`.workers`, :mod:`.ray_backend`,
:mod:`.daemon` (a call on a daemon thread), :mod:`.seeds`, :mod:`.mining` and
:mod:`.source_tree` (seeds from a code tree), :mod:`.store`, :mod:`.manifest`, :mod:`.progress`,
:mod:`.report` (the run report: a package, one module per part).
"""
