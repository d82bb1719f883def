"""What kind of answer a question wants: its question word, the unit or noun it asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: the first matching pattern decides.
_TYPES = [
    ("ordinal", re.compile(r"第几|排第|排名第?几|位居第?几|居第几")),
    ("number", re.compile(r"多少|几[个位名家次届天年月项所座辆户台件倍成]|多大|多高|多长|多重|多远|多久|百分之几|比例|增长了?几|增幅|降幅|占比")),
    # A bare metric noun asks for a quantity too: "2025年株洲医保参保人数".
    ("number", re.compile(r"(?:人数|人次|数量|总数|总量|金额|总额|产值|收入|营收|增速|增幅|价格|费用|面积|"
                          r"投资|产量|销量|票房)[？?。]?$")),
    ("time", re.compile(r"何时|什么时候|哪天|哪一天|哪年|哪一年|几月|几号|什么时间|几点|哪个月|日期")),
    ("person", re.compile(r"谁|哪位|何人|什么人|叫什么名字")),
    ("org", re.compile(r"哪个部门|哪家|哪个单位|哪个机构|什么部门|什么单位|什么机构|哪个公司|什么公司|哪所|哪个学校|哪些单位|哪些部门")),
    ("place", re.compile(r"哪里|在哪|何地|什么地方|哪个地方|何处|哪儿|哪个城市|哪个省|哪个区|哪个县")),
    ("list", re.compile(r"哪些|有什么|包括什么|包含什么")),
    ("entity", re.compile(r"什么|哪个|哪一|哪")),
]

_UNITS = ("亿元|万元|千元|元|万人次|人次|万人|人|万户|户|万吨|吨|万亩|亩|公里|千米|米|平方米|"
          "个百分点|%|倍|个|家|名|位|届|次|年|天|项|所|座|辆|台|件|期|版|场|分|岁|株|条|批|处")
_ASKED_UNIT = re.compile(rf"(?:多少|几)({_UNITS})")


@dataclass(frozen=True)
class QuestionType:
    kind: str | None  # ordinal, number, time, person, org, place, list, entity, or None
    unit: str | None = None  # the unit a number question asks for, e.g. 亿元
    noun: str | None = None  # the kind of thing asked for, e.g. 专业 in "哪个专业"


def question_type(question: str) -> QuestionType:
    """Classify a question by its question word."""
    for kind, pattern in _TYPES:
        if pattern.search(question):
            unit = None
            if kind == "number":
                m = _ASKED_UNIT.search(question)
                unit = m.group(1) if m else None
            return QuestionType(kind, unit, kind_noun(question))
    return QuestionType(None)


def kind_noun(question: str) -> str | None:
    """The noun right after a question word that names what is asked for ("哪所学校" → 学校)."""
    for _, end in focus_spans(question):
        for noun in ANSWER_KIND_NOUNS:
            if question.startswith(noun, end):
                return noun
    return None


_QUESTION_PHRASES = re.compile(
    r"(?:排名|位居|位列|排|居|列)?第几[\u4e00-\u9fff]?|几[个位名家次届天年月项所座辆户台件倍成号点]?|多少[\u4e00-\u9fff]{0,2}?(?=[？?，,。]|$)|多少|"
    r"是谁|是什么|什么时候|什么时间|什么地方|什么|哪里|哪儿|哪一?[个家些位天年所座条种类项次届门间台辆场部样]?|"
    r"何时|何地|谁|如何|怎么样|怎样|怎么|是否|吗|呢|请问")

#: Nouns that, right after a question word, name the kind of answer wanted.
ANSWER_KIND_NOUNS = frozenset("""
学校 单位 部门 机构 公司 企业 城市 地方 地点 国家 省份 地区 专业 名字 时间 日子 组织 团队 医院 银行
""".split())


def focus_spans(question: str) -> list[tuple[int, int]]:
    """Where the question words stand; the words right beside them are its focus
    ("什么时候建成交付", "平均降幅是多少")."""
    return [m.span() for m in _QUESTION_PHRASES.finditer(question) if m.group(0).strip()]


#: The question tail a keyword query of each kind is read with ("2025年株洲医保参保人数" →
#: "…参保人数是多少？"): the span reader learnt from questions with a question word, and on
#: validation questions cut to keywords it leads right about half as often without one.
_ASKED_AS = {"number": "是多少？", "ordinal": "排第几？", "time": "是什么时候？", "person": "是谁？",
             "org": "是哪个单位？", "place": "在哪里？"}


#: What marks a text as asked already, beside the question words: its question mark, 多长 and kin.
_ASKING = re.compile(r"[？?]\s*$|多[长大高重远久宽深厚]|为何|有何|何[时地处人种故]|如何")


def as_question(text: str, kind: str | None) -> str:
    """``text`` as a question: a keyword query gets the question tail of its kind
    ("是什么？" when the kind is unknown); a text that asks already stays as it is."""
    if not text.strip() or focus_spans(text) or _ASKING.search(text):
        return text
    return text.rstrip("。.！! ") + _ASKED_AS.get(kind or "", "是什么？")


def strip_question_words(question: str) -> str:
    """The question without its question words ("第几位", "多少", "哪个"), so that
    only the words naming the topic remain for matching."""
    return _QUESTION_PHRASES.sub(" ", question)


def numbers_in(text: str) -> list[str]:
    """Every number written in digits in ``text`` (for citation checks)."""
    return re.findall(r"\d+(?:\.\d+)?", text)
