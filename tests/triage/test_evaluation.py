"""`socialdesk eval triage`: the metrics, the file checks, the command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.triage.evaluation import EvalFileError, read_labelled, score

runner = CliRunner()


@pytest.mark.parametrize(
    ("gold", "predicted", "accuracy", "macro_f1"),
    [
        (["negative", "neutral", "positive"], ["negative", "neutral", "positive"], 1.0, 1.0),
        (["negative", "negative"], ["neutral", "neutral"], 0.0, 0.0),
        # negative: P 1/2 R 1/1 F 2/3; neutral: P 0 R 0 F 0; positive: P 1 R 1 F 1
        (["negative", "neutral", "positive"], ["negative", "negative", "positive"], 2 / 3, 5 / 9),
        # a class that never occurs still counts in the macro mean (F1 0)
        (["negative", "neutral"], ["negative", "neutral"], 1.0, 2 / 3),
    ],
)
def test_scores(gold: list[str], predicted: list[str], accuracy: float, macro_f1: float) -> None:
    result = score(gold, predicted, ("negative", "neutral", "positive"))
    assert result.accuracy == pytest.approx(accuracy)
    assert result.macro_f1 == pytest.approx(macro_f1)
    assert sum(item.support for item in result.per_class) == len(gold)


@pytest.mark.parametrize(
    ("content", "task", "error"),
    [
        ("words,label\nhi,neutral\n", "sentiment", "missing column text"),
        ("text,label\nhi,angry\n", "sentiment", "unknown label(s) angry"),
        ("text,label\nhi,negative\n", "complaint", "unknown label(s) negative"),
        ("text,label\n", "sentiment", "no labelled rows"),
    ],
)
def test_files_that_cannot_be_scored(tmp_path: Path, content: str, task: str, error: str) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(content)
    with pytest.raises(EvalFileError, match=re.escape(error)):
        read_labelled(path, task)


def test_labels_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("Text,Label\nmy bag is lost,Complaint\nlovely crew,not_complaint\n")
    assert read_labelled(path, "complaint") == [
        ("my bag is lost", "complaint"),
        ("lovely crew", "not"),
    ]


SAMPLE = (
    "text,label\n"
    "@united you lost my bag and nobody answers. worst airline ever,negative\n"
    "@AppleSupport my phone will not turn on after the update,negative\n"
    "thank you @Delta the crew was wonderful!! love it,positive\n"
    "@AmazonHelp when does the store open tomorrow,neutral\n"
)


def test_eval_triage_prints_both_passes(tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE)
    result = runner.invoke(app, ["eval", "triage", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 labelled posts" in result.output
    assert "final labels (both passes): accuracy" in result.output
    assert "inline pass alone: accuracy" in result.output
    for word in ("macro-F1", "negative", "neutral", "positive", "support 2"):
        assert word in result.output
    # The two clear complaints and the praise are read right by the inline pass.
    inline = result.output.split("inline pass alone:")[1]
    assert "negative   precision 1.000   recall 1.000" in inline


def test_eval_triage_complaint_task_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(
        "text,label\n@united you lost my bag again. unacceptable,complaint\n"
        "what time does boarding start?,not\n"
    )
    result = runner.invoke(app, ["eval", "triage", "--task", "complaint", str(path)])
    assert result.exit_code == 0, result.output
    assert "accuracy 1.000" in result.output and "complaint " in result.output
    missing = runner.invoke(app, ["eval", "triage", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad_task = runner.invoke(app, ["eval", "triage", "--task", "mood", str(path)])
    assert bad_task.exit_code == 2 and "unknown --task" in bad_task.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    bad = runner.invoke(app, ["eval", "triage", str(wrong)])
    assert bad.exit_code == 2 and "missing column" in bad.output
    assert "Traceback" not in missing.output + bad.output + bad_task.output
