"""The files a trained head is written as: ``<name>.safetensors`` (weights) beside ``<name>.json`` (what
:class:`classifiers.heads.Head` needs to score with it, and what the model card reports)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from . import datasets as D

VERSION = "1.10"  # heads written by this run; heads kept by ``train --heads`` keep their own version


def save(out: Path, name: str, layers, meta: dict, extra: dict | None = None, std=None) -> None:
    """``std`` = (mean, scale) of the input features, applied by heads.Head before the first layer."""
    tensors = {}
    if std is not None:
        tensors["input.mean"], tensors["input.scale"] = (np.ascontiguousarray(v, dtype=np.float32) for v in std)
    for i, (w, b) in enumerate(layers):
        tensors[f"layer{i}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
        tensors[f"layer{i}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
    tensors.update(extra or {})
    save_file(tensors, str(out / f"{name}.safetensors"), metadata={"head": name, "version": VERSION})
    (out / f"{name}.safetensors").chmod(0o644)
    meta = {"head": name, "version": VERSION, **({"layers": len(layers)} if layers else {}), **meta}
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")


def member_tensors(members) -> tuple[dict, list[dict]]:
    """Tensors ``m{j}.*`` and the ``members`` metadata of a head that averages several members, each given as
    (layers, std or None, input kind[, other weights]), the other weights being e.g. a token member's attention
    pool (``pool.*``). Weights are float16 (halves the file), biases and scaling float32."""
    tensors, meta = {}, []
    for j, (layers, std, kind, *other) in enumerate(members):
        for name, v in (other[0] if other else {}).items():
            tensors[f"m{j}.{name}"] = np.ascontiguousarray(v, np.float16 if name.endswith("weight") else np.float32)
        for i, (w, b) in enumerate(layers):
            tensors[f"m{j}.layer{i}.weight"] = np.ascontiguousarray(w, dtype=np.float16)
            tensors[f"m{j}.layer{i}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
        if std is not None:
            tensors[f"m{j}.input.mean"], tensors[f"m{j}.input.scale"] = (np.ascontiguousarray(v, np.float32)
                                                                         for v in std)
        meta.append({"input": kind, "layers": len(layers), "input_standardised": std is not None})
    return tensors, meta


def data_summary(rows, weights=None) -> dict:
    s: dict = {}
    for i, r in enumerate(rows):
        k = s.setdefault(r.source, {"rows": 0, "labels": {}, "licence": D.SOURCES[r.source][0]})
        k["rows"] += 1
        k["labels"][str(r.label)] = k["labels"].get(str(r.label), 0) + 1
        if weights is not None:
            k["sample_weight"] = float(weights[i])
    return s
