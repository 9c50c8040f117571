"""The token stream: examples in a seeded order, rendered once, batched by step.

Step ``s`` uses the ``batch_size`` rendered examples after position ``s * batch_size`` of
that order (cycling when the data runs out), so any process can compute any step's batch:
that is what makes resuming and several processes exact.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from tenon_train.dataset.examples import Example, read_jsonl
from tenon_train.train.render import IGNORE, Rendered, Renderer


@dataclass(frozen=True)
class TokenData:
    items: tuple[Rendered, ...]
    skipped: int  # examples whose target was too long

    def batch(self, step: int, size: int) -> list[Rendered]:
        n = len(self.items)
        return [self.items[(step * size + j) % n] for j in range(size)]


def render_all(examples: list[Example], renderer: Renderer, needed: int, seed: int,
               progress: bool = True) -> TokenData:
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    items: list[Rendered] = []
    skipped = 0
    bar = tqdm(total=min(needed, len(examples)), desc="render examples", unit="ex",
               disable=not progress)
    for index in order:
        if len(items) >= needed:
            break
        rendered = renderer.render(examples[index])
        if rendered is None:
            skipped += 1
            continue
        items.append(rendered)
        bar.update(1)
    bar.close()
    if not items:
        raise ValueError("no example could be rendered within the target token limit")
    return TokenData(tuple(items), skipped)


def save(path: Path, data: TokenData) -> None:
    rows = [{"input_ids": list(r.input_ids), "labels": list(r.labels), "kind": r.kind}
            for r in data.items]
    path.write_text(json.dumps({"skipped": data.skipped, "items": rows}), encoding="utf-8")


def load(path: Path) -> TokenData:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return TokenData(tuple(Rendered(tuple(r["input_ids"]), tuple(r["labels"]), r["kind"])
                           for r in raw["items"]), raw["skipped"])


def prepared(path: Path, source: Path, renderer: Renderer, needed: int, seed: int,
             progress: bool) -> TokenData:
    """Rendered data, cached at ``path`` (written atomically)."""
    if path.is_file():
        return load(path)
    data = render_all(read_jsonl(source), renderer, needed, seed, progress)
    tmp = path.with_suffix(".tmp")
    save(tmp, data)
    tmp.replace(path)
    return data


def collate(items: list[Rendered], pad_id: int):
    """Right-padded tensors: input_ids, attention_mask, labels."""
    import torch

    width = max(len(r.input_ids) for r in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(item.labels)
    return ids, mask, labels
