"""Reports: what the desk did, as numbers (``activity``) and as pictures (``charts``)."""
