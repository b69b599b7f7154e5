"""Load real customer-support history (the twcs CSV format) through the pipeline."""
