"""One module per network behind one small interface (see ``base``). No SQL here."""
