"""Training: the readers are trained here, never per question.

- ``mrc_data``: CMRC 2018 / DRCD questions with fixed splits, the pooled archive, news cloze questions.
- ``feature_reader``: ``rag train`` for the LightGBM sentence, span and answerability models.
- ``span_data`` and ``neural``: ``rag train --reader neural``, the fine-tuned transformer span reader
  (its model, ``rag.answer.span_model``, is also built at question time).
"""
