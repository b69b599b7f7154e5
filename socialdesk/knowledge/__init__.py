"""Knowledge: articles, the public help centre and answer suggestions.

`text.py` and `ranking.py` are pure (words, BM25, nearest past conversations, fusion);
`cdp.py` reads the IBM document-prediction files and measures the ranking on them.
"""
