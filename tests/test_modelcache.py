"""Trained scorers kept on disk between starts (knowledge/modelcache.py)."""
from __future__ import annotations

from knowledge import learned, modelcache

TRAINING = {"R1": ["学校要证明我哋租屋住喺度", "租房住要开居住证明"],
            "C11": ["阿爷过身要开死亡证明", "屋企人走咗要证明"],
            "OOS": ["听日开平会唔会打风", "去广州嘅车几点开"]}


def test_a_model_trained_once_is_read_back_and_reads_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv(modelcache.ENV, str(tmp_path))
    first = modelcache.trained(learned.NaiveBayes, TRAINING)
    files = list(tmp_path.glob("*.pickle"))
    assert len(files) == 1
    again = modelcache.trained(learned.NaiveBayes, TRAINING)
    assert again is not first and list(tmp_path.glob("*.pickle")) == files
    for text in ("阿仔读书要租住证明", "老豆过咗身", "落唔落雨"):
        assert again.guess(text) == first.guess(text) == learned.NaiveBayes(TRAINING).guess(text)
    assert (tmp_path.stat().st_mode & 0o077) == 0   # the owner's alone: pickles are code


def test_a_changed_example_or_setting_is_a_new_model(tmp_path, monkeypatch):
    monkeypatch.setenv(modelcache.ENV, str(tmp_path))
    modelcache.trained(learned.NaiveBayes, TRAINING)
    edited = {**TRAINING, "R1": [*TRAINING["R1"], "幼儿园要社区证明住喺呢度"]}
    model = modelcache.trained(learned.NaiveBayes, edited)
    assert len(list(tmp_path.glob("*.pickle"))) == 2
    assert model.guess("幼儿园要社区证明").top == "R1"
    monkeypatch.setattr(learned, "COMMON", 0.5)
    modelcache.trained(learned.NaiveBayes, edited)
    assert len(list(tmp_path.glob("*.pickle"))) == 3
    positive, negative = ["电线跌咗落地出火花", "屋企着火"], ["路灯唔着", "垃圾冇人收"]
    modelcache.trained(learned.Logistic, positive, negative)
    monkeypatch.setattr(learned.Logistic, "EPOCHS", 2)
    modelcache.trained(learned.Logistic, positive, negative)
    assert len(list(tmp_path.glob("logistic-*.pickle"))) == 2


def test_a_damaged_file_is_trained_again_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv(modelcache.ENV, str(tmp_path))
    modelcache.trained(learned.NaiveBayes, TRAINING)
    (path,) = tmp_path.glob("*.pickle")
    path.write_bytes(b"not a model")
    model = modelcache.trained(learned.NaiveBayes, TRAINING)
    assert model.guess("老豆过咗身").top == "C11"
    assert path.read_bytes() != b"not a model"
    assert not list(tmp_path.glob(".tmp-*"))


def test_off_trains_at_every_start_and_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(modelcache.ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert modelcache.directory() is None
    assert modelcache.trained(learned.NaiveBayes, TRAINING).guess("老豆过咗身").top == "C11"
    assert not list(tmp_path.rglob("*.pickle"))


def test_a_directory_that_cannot_be_written_still_gives_a_model(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory should be")
    monkeypatch.setenv(modelcache.ENV, str(blocked / "models"))
    assert modelcache.trained(learned.NaiveBayes, TRAINING).guess("老豆过咗身").top == "C11"
