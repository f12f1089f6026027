"""四必访 and 三必到: grid workers' visits to the households they must know, and arrival at the
tickets they must attend in person. Models in ``models``, the visit rules in ``rules``, the
service functions in ``service`` (visits) and ``attend`` (arrivals), the ledger in ``ledger``."""
