"""`socialdesk eval kb` on small files in the IBM document-prediction format."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app

runner = CliRunner()


def _conversation(session: str, brand: str, question: str, doc_id: str) -> dict[str, object]:
    return {
        "dialogHeader": {"company": brand, "sessionID": session},
        "dialogContent": [
            {"client": "someone", "message": question, "tweet_ID": "1"},
            {"agent": brand, "message": "Could you tell us more?", "tweet_ID": "2"},
        ],
        "agentURL": {"doc_id": doc_id, "url_utterance": f"Here you go: https://x.test/{doc_id}"},
    }


def _write(folder: Path, name: str, items: list[dict[str, object]]) -> Path:
    path = folder / name
    path.write_text(json.dumps(items))
    return path


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "docID_url.tsv").write_text(
        "1\thttps://help.acme.test/reset-password\n"
        "2\thttps://help.acme.test/refund-request\n"
        "3\thttps://help.globex.test/delivery-tracking\n"
    )
    (tmp_path / "company_docIDs.tsv").write_text("Acme\t1, 2\nGlobex\t3\n")
    return tmp_path


def _figures(output: str) -> dict[str, tuple[float, float, float]]:
    rows = {}
    for line in output.splitlines():
        m = re.match(r"(.+?)\s+recall@1 ([\d.]+)\s+recall@5 ([\d.]+)\s+MRR ([\d.]+)", line)
        if m:
            rows[m[1].strip()] = (float(m[2]), float(m[3]), float(m[4]))
    return rows


def test_separate_index_and_test(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    index = _write(
        folder,
        "index.json",
        [
            _conversation("a", "Acme", "I forgot my password and cannot log in", "1"),
            _conversation("b", "Acme", "money back for my order please", "2"),
            _conversation("c", "Acme", "refund my order, it was broken", "2"),
            _conversation("d", "Globex", "where is my parcel", "3"),
        ],
    )
    test = _write(
        tmp_path,
        "test.json",
        [
            _conversation("t1", "Acme", "how do I reset my password", "1"),
            _conversation("t2", "Acme", "I want a refund", "2"),
            _conversation("t3", "Globex", "tracking my delivery", "3"),
        ],
    )
    result = runner.invoke(app, ["eval", "kb", "--index", str(index), "--test", str(test)])
    assert result.exit_code == 0, result.output
    figures = _figures(result.output)
    assert figures["suggestions"] == (1.0, 1.0, 1.0)
    # popularity puts Acme's refund page first, so the password question misses at 1
    assert figures["popularity (baseline)"] == (0.667, 1.0, 0.833)
    assert "3 conversations, 4 in the index" in result.output


def test_same_file_is_leave_one_out(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    # Each Acme question is the only one answered with its document: without its own
    # conversation the index has no past question for it, and popularity cannot know it.
    path = _write(
        folder,
        "dev.json",
        [
            _conversation("a", "Acme", "reset password", "1"),
            _conversation("b", "Acme", "refund please", "2"),
        ],
    )
    result = runner.invoke(app, ["eval", "kb", "--index", str(path), "--test", str(path)])
    assert result.exit_code == 0, result.output
    assert "leave-one-out" in result.output
    figures = _figures(result.output)
    # popularity sees only the other conversation, so it always ranks the wrong page
    # first (without leave-one-out it would get one of the two right)
    assert figures["popularity (baseline)"] == (0.0, 1.0, 0.5)
    assert figures["suggestions"][1] == 1.0


def test_one_conversation_per_line_is_read_too(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    items = [
        _conversation("a", "Acme", "reset my password", "1"),
        _conversation("b", "Acme", "refund my order", "2"),
    ]
    index = folder / "index.jsonl"
    index.write_text("\n".join(json.dumps(item) for item in items) + "\n")
    result = runner.invoke(app, ["eval", "kb", "--index", str(index), "--test", str(index)])
    assert result.exit_code == 0, result.output
    assert "2 conversations, 2 in the index (leave-one-out)" in result.output


def test_bad_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    missing = tmp_path / "missing.json"
    wrong = _write(tmp_path, "wrong.json", [{"dialogHeader": {}}])
    for index in (bad, missing, wrong):
        result = runner.invoke(app, ["eval", "kb", "--index", str(index), "--test", str(index)])
        assert result.exit_code == 2
        assert "error:" in result.output


def test_semantic_measures_embeddings_beside_text(tmp_path: Path) -> None:
    """A question in other words than its page's URL: text alone ranks by the candidates'
    order, the embeddings of the URL's words and of the past questions find it."""
    folder = _folder(tmp_path)
    index = _write(
        folder,
        "index.json",
        [
            _conversation("a", "Acme", "I forgot my password and cannot log in", "1"),
            _conversation("b", "Acme", "money back for my order please", "2"),
        ],
    )
    test = _write(
        tmp_path,
        "test.json",
        [_conversation("t1", "Acme", "could I get my cash returned for what I bought", "2")],
    )
    result = runner.invoke(
        app, ["eval", "kb", "--index", str(index), "--test", str(test), "--semantic"]
    )
    assert result.exit_code == 0, result.output
    figures = _figures(result.output)
    assert figures["text alone"][0] == 0.0  # no shared word: the first candidate, page 1
    assert figures["text + embeddings"] == (1.0, 1.0, 1.0)
    assert figures["embeddings alone"] == (1.0, 1.0, 1.0)
    assert set(figures) >= {"suggestions", "suggestions + embeddings"}
