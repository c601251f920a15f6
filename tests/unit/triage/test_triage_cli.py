"""`gateway classifier evaluate`: scores for any labelled CSV, as a table or JSON; bad files in one line."""
from __future__ import annotations

import json

from gateway.cli import EXIT_USAGE, main
from tests.conftest import DATA

SMALL = str(DATA / "triage" / "small.csv")


def config_file(tmp_path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gateway.db"\n')
    return str(path)


def test_evaluate_prints_accuracy_per_class_scores_and_confusion(tmp_path, capsys):
    assert main(["--config", config_file(tmp_path), "classifier", "evaluate", "--csv", SMALL, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == 6 and report["accuracy"] >= 5 / 6
    assert set(report["per_class"]) == {"bug", "change", "misc"}
    assert report["per_class"]["bug"]["support"] == 2
    assert sum(sum(row.values()) for row in report["confusion"].values()) == 6


def test_evaluate_as_a_table(tmp_path, capsys):
    assert main(["--config", config_file(tmp_path), "classifier", "evaluate", "--csv", SMALL]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mails 6  accuracy ") and "confusion (rows: true, columns: predicted)" in out
    assert "precision" in out and "recall" in out


def test_a_csv_without_the_needed_columns_is_one_line_naming_them(tmp_path, capsys):
    code = main(["--config", config_file(tmp_path), "classifier", "evaluate", "--csv",
                 str(DATA / "triage" / "wrong_columns.csv")])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_USAGE and "\n" not in err
    assert "missing column(s) body" in err and "needs subject, body and category" in err


def test_an_unknown_label_names_its_line(tmp_path, capsys):
    code = main(["--config", config_file(tmp_path), "classifier", "evaluate", "--csv",
                 str(DATA / "triage" / "unknown_label.csv")])
    assert code == EXIT_USAGE
    assert "line 2: category 'question' is not one of bug, change, misc" in capsys.readouterr().err
