"""Local fakes of the providers, over real sockets, each keeping a JSON-lines ledger of what it received."""
