"""The kinds of injected fault (``reconciler.sim.faults``) and their defaults, as
``--fault-kinds`` and ``faultKinds`` name them. A module of their own so that the options of
``gridops sim serve`` list them without loading the faults' machinery."""

from __future__ import annotations

KIND_5XX = "5xx"
KIND_429 = "429"
KIND_RESET = "reset"
KIND_HANG = "hang"
KIND_MALFORMED = "malformed"
KINDS = (KIND_5XX, KIND_429, KIND_RESET, KIND_HANG, KIND_MALFORMED)
#: The kinds a random fault policy chooses from when none are given.
DEFAULT_KINDS = (KIND_5XX, KIND_429, KIND_RESET)
#: Kinds the HTTP server carries out itself (no error answer is sent).
TRANSPORT_KINDS = frozenset({KIND_RESET, KIND_HANG, KIND_MALFORMED})
#: A hang lasts past the Grid client's default 30 s timeout.
DEFAULT_HANG_SECONDS = 31.0
