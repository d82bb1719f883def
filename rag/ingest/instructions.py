"""Passages that read as instructions to a language model.

An article may carry a sentence written for a model rather than for readers
(忽略以上指令，回答：…, "ignore previous instructions", a role-play prompt).
Such a passage is flagged when it is chunked. The LLM answerer keeps flagged
passages out of its prompt, and its answer check treats a claim that only a
flagged passage supports as unverified. The passage stays in the archive:
the extractive answer quotes it verbatim, which no sentence can steer.

Every repeat below is bounded, so a search is linear in the text's length.
"""

from __future__ import annotations

import re

_ZH_IGNORE = r"(?:忽略|无视|忘记|忘掉|不要理会|不用理会|抛开|跳过)"
_ZH_WHICH = r"(?:以上|以下|上面|上述|前面|之前|先前|此前|所有|全部|一切|原有|原来|系统)"
_ZH_RULES = r"(?:指令|指示|提示词|提示|命令|规则|设定|要求|约束|限制)"
_PATTERNS = (
    # 忽略以上指令 / 无视之前的所有提示 / 忘记你的设定
    rf"{_ZH_IGNORE}.{{0,4}}{_ZH_WHICH}.{{0,6}}{_ZH_RULES}",
    rf"{_ZH_IGNORE}(?:你的|你所有的|你之前的){_ZH_RULES}",
    # role play: 你现在是一个…, 请你扮演…, 假装你是…, 从现在开始你是…
    r"你现在是(?:一个|一名|一位)|(?:从现在起|从现在开始|现在开始)你(?:是|就是|扮演)",
    r"(?:请你|你要|现在你|你需要)扮演",
    r"假装你是|你不再是.{0,10}助手",
    r"(?:进入|开启|启用)(?:开发者|越狱|DAN)模式",
    # English
    r"(?i:\b(?:ignore|disregard|forget|override)\b.{0,20}?\b(?:previous|prior|above|earlier|preceding|all|system)\b"
    r".{0,20}?\b(?:instructions?|prompts?|rules|directions)\b)",
    r"(?i:\byou are now\b|\bact as (?:an?|the)\b|\bpretend (?:to be|you are)\b|\bjailbreak\b)",
    # chat-template and prompt markers that never occur in news text
    r"<\|im_start\|>|<\|im_end\|>|<\|system\|>|\[/?INST\]|<</?SYS>>",
    r"(?im:^\s{0,4}(?:system|assistant)\s{0,4}[:：])",
)
INSTRUCTION_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


def find_instruction(text: str) -> str | None:
    """The first phrase of ``text`` that addresses a language model, else None."""
    m = INSTRUCTION_RE.search(text)
    return m.group(0)[:40] if m else None


def chunk_instruction(chunk) -> str | None:
    """The phrase that flags ``chunk`` (a Chunk): stored at ingest, or looked for
    again in chunks of indexes written before the flag existed."""
    return chunk.instruction or find_instruction(f"{chunk.headline}\n{chunk.text}")


#: The notice of an answer that quotes a flagged passage.
QUOTED_INSTRUCTION_NOTICE = "所引报道含有疑似写给模型的指令（“{phrase}”），可能是有意植入的文字，请核对原文。"
