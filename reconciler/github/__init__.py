"""GitHub integration: the plan comment on pull requests, the apply outcome on merge, the drift
issue of scheduled runs, workflow annotations and the job summary.

``client`` is the only module here that touches the network; ``comment``, ``budget``,
``annotations`` and ``prview`` are pure; ``publish`` is what the CLI calls, with its
collaborators passed in.
"""
