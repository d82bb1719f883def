"""`rag train` end to end on a sliver of the training data, with the fake embedder."""

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TRAIN = SHARED / "train"
BENCH = SHARED / "bench" / "crud-news-11k.jsonl.gz"
FILES = {"cmrc2018_dev.json": 12, "cmrc2018_trial.json": 8, "DRCD_dev.json": 6, "DRCD_test.json": 6}

pytestmark = pytest.mark.skipif(not (TRAIN / "cmrc2018_dev.json").is_file() or not BENCH.is_file(),
                                reason="../shared/train or the bench corpus is missing")


@pytest.fixture(scope="module")
def sliver(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train-data")
    for name, n in FILES.items():
        data = json.loads((TRAIN / name).read_text(encoding="utf-8"))
        data["data"] = data["data"][:n]
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def _train(sliver, tmp_path, name):
    from rag.settings import Settings
    from rag.training.feature_reader import run

    models = tmp_path / name
    metrics = run(sliver, BENCH, tmp_path / f"work-{name}", Settings.load(embed_model="fake:hash-256"),
                  models, noise=40, absent=10)
    return models, metrics


@pytest.mark.integration
def test_training_is_deterministic_and_its_models_answer(sliver, tmp_path):
    from rag.answer.features import SENTENCE_FEATURES
    from rag.answer.reader import Reader

    a, metrics = _train(sliver, tmp_path, "a")
    b, _ = _train(sliver, tmp_path, "b")
    for name in ("reader-sentence.txt", "reader-span.txt"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    meta = json.loads((a / "reader.json").read_text(encoding="utf-8"))
    other = json.loads((b / "reader.json").read_text(encoding="utf-8"))
    for m in (meta, other):  # latencies are measured, not trained
        for split in m["validation"].values():
            del split["reader_ms_p50"], split["reader_ms_p95"]
    assert meta == other
    assert meta["sentence_features"] == list(SENTENCE_FEATURES)
    assert 0.0 <= meta["refuse_threshold"] <= 1.0 and 0.0 <= meta["lead_threshold"] <= 1.0
    for split in ("tune", "report"):
        m = metrics[split]
        assert m["answerable"] > 0 and 0.0 <= m["answer_in_text"] <= 1.0
    assert Reader(a).meta["answerability"] == meta["answerability"]  # the written models load


def _bench(tmp_path, texts):
    """A bench file of news articles with these texts, as ``noise_articles`` reads it."""
    import gzip

    bench = tmp_path / "bench.jsonl.gz"
    with gzip.open(bench, "wt", encoding="utf-8") as fh:
        for text in texts:
            fh.write(json.dumps({"title": "t", "text": text}, ensure_ascii=False) + "\n")
    return bench


#: Trade figures, one article each: two numbers of a kind in different clauses of a sentence.
TRADE_TEXTS = [f"青松县统计局发布数据，全县出口额为{10 + i}亿元，进口额为{60 + i}亿元，贸易总额再创新高。"
               f"其他内容在此省略不提。" for i in range(40)]


def test_an_absent_article_reprinting_a_pooled_clause_asks_no_withheld_question(tmp_path):
    from rag.training.mrc_data import synthetic_news

    pooled = "株洲市统计局发布数据，2025年全市地区生产总值达到4128亿元，同比增长6.1%。其他内容在此省略不提。"
    reprint = pooled + "编辑：周文。"  # reprinted whole, a byline added
    fresh = "醴陵市文旅局介绍，今年醴陵瓷博会共吸引游客86万人次，比上届多出十二万。其他内容在此省略不提。"
    bench = _bench(tmp_path, (pooled, reprint, fresh))
    nothing_pooled = {q.context_id for q in synthetic_news(bench, n=0, absent=3) if q.withheld}
    assert {"noise-1", "noise-2"} <= nothing_pooled  # both articles do ask a question
    withheld = {q.context_id for q in synthetic_news(bench, n=1, absent=2) if q.withheld}
    assert "noise-1" not in withheld  # its clause stands in the pooled article
    assert "noise-2" in withheld


def test_contrast_questions_ask_for_the_later_of_two_numbers_in_its_own_clause_only(tmp_path):
    from rag.training.mrc_data import news_split, contrast_news

    questions = contrast_news(_bench(tmp_path, TRADE_TEXTS), n=40)
    validation = [i for i in range(40) if news_split(f"noise-{i}") != "train"]
    assert validation and [int(q.context_id.split("-")[1]) for q in questions] == validation
    for q in questions:
        i = int(q.context_id.split("-")[1])
        assert q.split == "news_contrast" and not q.withheld
        assert q.question == "进口额为多少亿元？" and q.answers == (f"{60 + i}亿元",)
        assert f"{10 + i}亿元" in TRADE_TEXTS[i]  # the other number stands beside it, not in the question


def test_training_articles_ask_contrast_questions_for_either_number(tmp_path):
    from rag.training.mrc_data import news_split, contrast_news

    bench = _bench(tmp_path, TRADE_TEXTS)
    questions = contrast_news(bench, n=40, train=True)
    train = [i for i in range(40) if news_split(f"noise-{i}") == "train"]
    assert [int(q.context_id.split("-")[1]) for q in questions] == train  # never a validation article
    asked = set()
    for q in questions:
        i = int(q.context_id.split("-")[1])
        assert q.split == "train" and not q.withheld
        expected = {"全县出口额为多少亿元？": f"{10 + i}亿元", "进口额为多少亿元？": f"{60 + i}亿元"}
        assert q.answers == (expected[q.question],)
        asked.add(q.question)
    assert len(asked) == 2  # the first number is asked for as well as the later one
    assert contrast_news(bench, n=40, train=True) == questions  # by hash: the same every run


def test_news_claims_pair_each_printed_clause_with_a_false_twin(tmp_path):
    from rag.training.claims_data import news_claims
    from rag.training.mrc_data import news_split

    texts = [f"青松县统计局发布数据，全县出口额为{10 + i}亿元，当年全县进口额为{60 + i}亿元。其他内容在此省略不提。"
             for i in range(30)] + [f"全县今年新建公园{3 + i}个，市民休闲去处更多。其他内容在此省略不提。" for i in range(30)]
    bench = _bench(tmp_path, texts)
    claims = {c["id"]: c for c in news_claims(bench, n=60)}
    validation = [i for i in range(60) if news_split(f"noise-{i}") != "train"]
    assert validation and {c.split(":")[0] for c in claims} == {f"noise-{i}" for i in validation}
    for i in validation:
        true = claims[f"noise-{i}:true"]["claim"]
        assert true in texts[i]  # as printed
        if i < 30:
            assert claims[f"noise-{i}:false_contrast"]["claim"] == true.replace(f"{60 + i}亿元", f"{10 + i}亿元")
        else:
            parks = 3 + i - 30
            assert claims[f"noise-{i}:false_altered"]["claim"] == true.replace(f"{parks}个", f"{2 * parks + 3}个")
