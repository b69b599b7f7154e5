"""The crisis radar (docs/radar.md): negative posts per channel account and topic,
counted against the key's own recent baseline, raising incidents."""
