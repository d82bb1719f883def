"""`rag train --reader neural` on a sliver: deterministic, resumable, and its export loads."""

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TRAIN = SHARED / "train"
BENCH = SHARED / "bench" / "crud-news-11k.jsonl.gz"
FILES = {"cmrc2018_dev.json": 2, "cmrc2018_trial.json": 1, "DRCD_dev.json": 1, "DRCD_test.json": 1}

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not (TRAIN / "cmrc2018_dev.json").is_file(), reason="../shared/train is missing")]


@pytest.fixture(scope="module")
def sliver(tmp_path_factory):
    folder = tmp_path_factory.mktemp("span-train-data")
    for name, n in FILES.items():
        data = json.loads((TRAIN / name).read_text(encoding="utf-8"))
        data["data"] = data["data"][:n]
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def e5():
    from tokenizers import Tokenizer

    from rag.embedding.e5model import ensure_e5_model
    from rag.settings import Settings

    folder = ensure_e5_model(Settings.load().model_cache)
    return folder, Tokenizer.from_file(str(folder / "tokenizer.json"))


def _trainer(sliver, work, **config):
    from rag.training.neural import Config, Trainer

    settings = dict(limit=8, epochs=1, batch=4, news=False, max_windows=0, checkpoint_s=1e9, frozen=10, max_tokens=64)
    cfg = Config(**{**settings, **config})
    return Trainer(work, sliver, BENCH, cfg, onnx_lower=False)


@pytest.fixture(scope="module")
def trained(sliver, e5, tmp_path_factory):
    work = tmp_path_factory.mktemp("span-train-a")
    trainer = _trainer(sliver, work)
    model, _ = trainer.train(*e5, log=lambda s: None)  # each epoch's end writes a checkpoint
    return trainer, model


def test_training_a_sliver_twice_gives_identical_weights(sliver, e5, trained, tmp_path):
    import torch

    folder, tok = e5
    a = trained[1]
    b, _ = _trainer(sliver, tmp_path / "b").train(folder, tok, log=lambda s: None)
    da, db = a.delta_state(), b.delta_state()
    assert set(da) == set(db) and any(k.startswith("encoder.layer.11.") for k in da) and "qa.weight" in da
    assert all(torch.equal(da[k], db[k]) for k in da)
    # Only the top layers and the head are trained, so only they are saved.
    assert not any(k.startswith(("embeddings.", "encoder.layer.0.")) for k in da)


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(sliver, e5, tmp_path):
    import torch

    folder, tok = e5
    whole, _ = _trainer(sliver, tmp_path / "whole", epochs=2).train(folder, tok, log=lambda s: None)
    parts = _trainer(sliver, tmp_path / "parts", epochs=2)
    parts.train(folder, tok, log=lambda s: None, stop_after=3)
    # as a checkpoint written before a setting existed: it ran at that setting's default
    state = torch.load(parts.checkpoint_path(), weights_only=False)
    del state["config"]["near_miss_human"]
    torch.save(state, parts.checkpoint_path())
    with pytest.raises(SystemExit, match="other settings"):
        _trainer(sliver, tmp_path / "parts", epochs=3).train(folder, tok, resume=True, log=lambda s: None)
    resumed, _ = _trainer(sliver, tmp_path / "parts", epochs=2).train(folder, tok, resume=True, log=lambda s: None)
    da, db = whole.delta_state(), resumed.delta_state()
    assert all(torch.equal(da[k], db[k]) for k in da)


def test_the_exported_weights_carry_their_sha256_and_a_changed_file_is_refused(trained, tmp_path):
    from rag.answer.span_reader import META_FILE, WEIGHTS_FILE, read_meta, sha256_of
    from rag.errors import ModelLoadError
    from rag.training.neural import export

    trainer = trained[0]
    models = tmp_path / "models"
    export(trainer.work, models, trainer.config)
    meta = read_meta(models)
    assert meta["sha256"] == sha256_of(models / WEIGHTS_FILE)
    assert meta["config"]["frozen"] == trainer.config.frozen
    (models / WEIGHTS_FILE).write_bytes((models / WEIGHTS_FILE).read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelLoadError, match="sha256"):
        read_meta(models)
    assert (models / META_FILE).is_file()


def test_held_out_cmrc_dev_articles_are_whole_and_never_trained_on(sliver):
    from rag.training.mrc_data import HELDOUT_SPLITS, load
    from rag.training.span_data import load_items

    _, questions = load(sliver)
    held = [q for q in questions if q.split in HELDOUT_SPLITS]
    assert held, "the sliver's first CMRC dev article is held out"
    assert all(q.context_id.startswith("cmrc2018_dev-") for q in held)
    article = lambda q: q.context_id.rsplit("-", 1)[0]
    held_articles = {article(q) for q in held}
    assert all(q.split in HELDOUT_SPLITS for q in questions if article(q) in held_articles)
    # each article is whole in one half: its questions share a split
    assert all(len({q.split for q in held if article(q) == a}) == 1 for a in held_articles)
    trained_on = {it.id for it in load_items(sliver, BENCH, news=False) if it.split in ("train", "news_train")}
    assert trained_on and not trained_on & {q.id for q in held}


def _hit(n: int, headline: str, body: str):
    from rag.ingest.sentences import split_sentences
    from rag.records import Article, Chunk, Hit

    sents = tuple(split_sentences(body))
    article = Article(id=f"a{n}", source="pool.jsonl", position=n, headline=headline, body=body)
    chunk = Chunk(id=f"a{n}#0", article_id=article.id, n=0, start=0, end=len(body), sentences=sents,
                  text=body, tokens=0, tiktokens=0, headline=headline)
    return Hit(chunk, article, 1.0 / (n + 1), None, None)


QUESTION_ITEM = dict(id="q1", question="新建的水库库容是多少万立方米？", title="水库建成",
                     context="县里新建的水库库容为320万立方米。水库于去年动工。", answers=("320万立方米",),
                     start=9, article="art", split="train")


def test_a_near_miss_is_the_best_ranked_passage_whose_article_lacks_the_answer():
    from rag.training.span_data import Item, near_miss

    item = Item(**QUESTION_ITEM)
    holding = _hit(0, "水库建成", "县里新建的水库库容为320万立方米。水库于去年动工。")
    empty = _hit(1, "空白", "   ")
    other = _hit(2, "另一座水库", "邻县修路三条。邻县新建的水库库容尚未公布。水库周边种树。")
    assert near_miss(item, [holding, empty, other]) == ("另一座水库", other.article.body,
                                                        other.article.body.index("邻县新建"))
    # the centre is the sentence sharing the most characters with the question, not the first
    assert near_miss(item, [holding]) is None


def test_a_near_miss_stands_in_for_the_far_window_as_a_no_answer_window(e5):
    from rag.training.span_data import Item, windows_for

    _, tok = e5
    context = "县里新建的水库库容为320万立方米。" + "".join(f"第{i}段讲的是别的事情。" for i in range(30))
    item = Item(**{**QUESTION_ITEM, "context": context, "start": context.index("320")})
    far = windows_for(item, tok, {}, [], 64)
    assert len(far) == 2 and far[1][1:] == (0, 0)  # the answer window, then a far stretch of the context
    body = "邻县修路三条。邻县新建的水库库容尚未公布。"
    near = windows_for(item, tok, {}, [], 64, near=("另一座水库", body, body.index("邻县新建")))
    assert [w[1:] for w in near] == [far[0][1:], (0, 0)]
    w = near[1][0]
    assert (w.start, w.end) == (0, len(body))  # built over the near-miss's own text
    assert tok.decode(list(w.ids)).replace(" ", "").count("水库") >= 2  # title and body of the near-miss
    # a near-miss holding the answer teaches nothing: the far stretch stands after all
    holding = windows_for(item, tok, {}, [], 64, near=("x", "库容为320万立方米。", 0))
    assert [w[1:] for w in holding] == [w[1:] for w in far]
    assert holding[1][0].start == far[1][0].start


def test_another_reports_figure_of_the_answers_kind_is_no_near_miss_for_a_generated_news_question():
    from rag.training.span_data import Item, near_miss, rivals

    item = Item(id="contrast:1", question="两市合计成交多少亿元？", title="", context="两市合计成交6589.15亿元。",
                answers=("6589.15亿元",), start=6, article="noise-1", split="news_train")
    other_day = _hit(0, "资金路线图", "两市合计成交9481.16亿元，较上一交易日增加。")
    unrelated = _hit(1, "行情", "两市合计成交额较上周明显放大，成交活跃。")
    assert rivals(item, other_day.article.body) and not rivals(item, unrelated.article.body)
    assert near_miss(item, [other_day, unrelated])[0] == "行情"
    # "万余元" is of the answer's kind (元), "17具" is not of "21名"'s
    assert rivals(item, "涉案金额12万余元。")
    dead = Item(**{**item.__dict__, "answers": ("21名",), "question": "已发现多少名遇难者？"})
    assert not rivals(dead, "现场找到17具遗体。") and rivals(dead, "另有3名伤者。")
    # a question people wrote about one passage names its subject: another passage's figure is a near-miss
    written = Item(**{**item.__dict__, "split": "train"})
    assert not rivals(written, other_day.article.body)
    assert near_miss(written, [other_day, unrelated])[0] == "资金路线图"


def test_near_misses_go_to_a_share_of_the_questions_and_can_skip_the_generated_ones():
    from rag.training.span_data import GENERATED, Item, asked_for_near_miss

    items = [Item(**{**QUESTION_ITEM, "id": f"q{i}", "split": "train" if i % 2 else GENERATED}) for i in range(200)]
    assert asked_for_near_miss(items, 0.0) == [] and asked_for_near_miss(items, 1.0) == items
    half = asked_for_near_miss(items, 0.5)
    assert 60 < len(half) < 140 and half == asked_for_near_miss(items, 0.5)  # by hash of the id, not by draw
    human = asked_for_near_miss(items, 0.5, human_only=True)
    assert human == [it for it in half if it.split == "train"] and human


def test_a_run_can_start_from_an_earlier_runs_tensors(sliver, e5, trained, tmp_path):
    import torch
    from safetensors.torch import save_file

    folder, tok = e5
    before = trained[1].delta_state()
    init = tmp_path / "span-reader.safetensors"
    save_file({k: v.contiguous() for k, v in before.items()}, str(init))
    # With no learning rate the run ends where it started: on the earlier tensors.
    still, _ = _trainer(sliver, tmp_path / "still", init=str(init), lr=0.0).train(folder, tok, log=lambda s: None)
    assert all(torch.equal(before[k], v) for k, v in still.delta_state().items())
    # Trained on, it moves away from them, and not back to where a fresh run goes.
    on, _ = _trainer(sliver, tmp_path / "on", init=str(init)).train(folder, tok, log=lambda s: None)
    fresh = _trainer(sliver, tmp_path / "fresh").train(folder, tok, log=lambda s: None)[0].delta_state()
    moved = on.delta_state()
    assert any(not torch.equal(before[k], moved[k]) for k in moved)
    assert any(not torch.equal(fresh[k], moved[k]) for k in moved)
