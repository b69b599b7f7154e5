"""Service levels: policies, clocks per ticket, the pipeline step and the periodic scan."""
