"""benchmarks/hate_finetune.py's LoRA branch: adapters on every linear layer of the six transformer layers,
the pretrained weights frozen, and at the start exactly the pretrained encoder (B starts at zero)."""

from __future__ import annotations

import numpy as np

from benchmarks.hate_finetune import Branch

TEXTS = ["Lovely turnout at the Workington food bank today", "they should all be sent back"]


def test_lora_branch_trains_only_the_adapters_and_starts_as_the_pretrained_encoder():
    lora, full = Branch(rank=4, threads=1), Branch(rank=0, threads=1)
    # 6 layers x (query, key, value, attention output: 384 -> 384; intermediate 384 -> 1536; output 1536 -> 384)
    per_layer = 4 * 4 * (384 + 384) + 2 * 4 * (384 + 1536)
    assert sum(p.numel() for p in lora.parameters()) == 6 * per_layer
    assert sum(p.numel() for p in full.parameters()) > 20_000_000  # every weight, embeddings included
    np.testing.assert_allclose(lora.predict(TEXTS), full.predict(TEXTS), atol=1e-5)
    assert np.allclose(lora.predict(TEXTS).sum(1), 1.0, atol=1e-5)


def test_rationale_marks_follow_each_word_onto_its_word_pieces():
    import torch

    from benchmarks.hate_finetune import _token_marks

    branch = Branch(rank=4, threads=1)
    branch.train_mode(False)
    texts = ["they are vermin and parasites", "lovely day at maryport"]
    with torch.inference_mode():
        plain = branch.logits(texts)
        logits, tokens, word_ids = branch.logits(texts, words=True)
    # tokenising the whitespace-split words gives the same ids, so the same class logits as the plain text
    torch.testing.assert_close(logits, plain)
    assert tokens.shape == word_ids.shape
    target, keep = _token_marks(torch, [[0, 0, 1, 0, 1], None], word_ids)
    pieces = branch.tokenizer.convert_ids_to_tokens(branch.tokenizer(texts[0])["input_ids"])
    marked = {p for p, t, k in zip(pieces, target[0].tolist(), keep[0].tolist()) if k and t == 1.0}
    assert "ve" in "".join(marked) and "para" in "".join(marked)  # every piece of the two marked words
    assert not {"they", "are", "and"} & marked
    assert not keep[1].any()  # a text without annotated rationales adds no token loss
    assert not keep[0][word_ids[0] < 0].any()  # [CLS], [SEP] and padding carry none
